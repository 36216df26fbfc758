import { defineConfig } from "vitepress";
import { expandMarkers, pagesIn, publicPackages, resetApiCache } from "./palisade.js";

const guideOrder = [
  "express4-in-10-lines",
  "reverse-proxy",
  "stripe-csp",
  "report-only-rollout",
  "redis-login-rate-limit",
  "kubernetes",
  "logs-and-audit-chain",
  "sqlite-tuning",
  "prometheus-grafana",
  "migrating",
];

export default defineConfig({
  title: "Palisade",
  description: "Production-readiness middleware for Express 4 and 5.",
  lang: "en-US",
  srcExclude: ["**/node_modules/**", ".recipes-tmp/**", "README.md"],
  lastUpdated: false,
  ignoreDeadLinks: "localhostLinks",
  themeConfig: {
    nav: [
      { text: "Quickstart", link: "/quickstart" },
      { text: "Reference", link: "/reference/core" },
      { text: "Guides", link: "/guides/express4-in-10-lines" },
      { text: "Error codes", link: "/reference/error-codes" },
      { text: "Changelog", link: "/changelog" },
    ],
    sidebar: [
      { text: "Getting started", items: [{ text: "Quickstart", link: "/quickstart" }] },
      {
        text: "Reference",
        items: [
          ...publicPackages().map((pkg) => ({ text: pkg.name, link: `/reference/${pkg.short}` })),
          { text: "Error codes", link: "/reference/error-codes" },
        ],
      },
      { text: "Guides", items: pagesIn("guides", guideOrder) },
      {
        text: "Project",
        items: [
          { text: "Changelog", link: "/changelog" },
          { text: "Contributing and releases", link: "/contributing/releasing" },
        ],
      },
    ],
    search: { provider: "local" },
    outline: { level: [2, 3] },
  },
  markdown: {
    config(md) {
      md.core.ruler.before("normalize", "palisade-markers", (state) => {
        state.src = expandMarkers(state.src);
      });
    },
  },
  vite: {
    plugins: [
      {
        name: "palisade-package-sources",
        configureServer(server) {
          // The reference pages read packages/*: reload them when a package changes.
          server.watcher.add("../packages/*/src/**/*.ts");
          server.watcher.add("../packages/*/README.md");
          server.watcher.on("change", (file) => {
            if (file.includes("/packages/")) {
              resetApiCache();
              server.ws.send({ type: "full-reload" });
            }
          });
        },
      },
    ],
  },
});
