import { defineConfig } from "vitepress";
import { expandMarkers, GUIDE_ORDER, pagesIn, publicPackages, resetApiCache } from "./palisade.js";

// The home page's layout lives here rather than in front matter, which the repository's
// formatter (biome's markdown support) does not keep intact.
const home = {
  layout: "home",
  hero: {
    name: "Palisade",
    text: "Production-readiness middleware for Express",
    tagline:
      "Security headers, input threat detection, audit logs, timing, health checks, SQLite tuning, rate limits and access control, as small packages for Express 4 and 5.",
    actions: [
      { theme: "brand", text: "Quickstart", link: "/quickstart" },
      { theme: "alt", text: "Guides", link: "/guides/express4-in-10-lines" },
      { theme: "alt", text: "Error codes", link: "/reference/error-codes" },
    ],
  },
  features: [
    {
      title: "One package, one job",
      details: "Each package is one factory that works alone in an existing app. Add one, or all of them.",
    },
    {
      title: "Loud at startup, quiet at run time",
      details:
        "A misspelled or invalid option throws a PalisadeConfigError with a stable code and a suggestion. Run-time surprises warn once with a WRN_PALISADE_* code.",
    },
    {
      title: "Recipes that run",
      details: "Every code block in the guides is executed by the test suite against a real Express app.",
    },
  ],
};

export default defineConfig({
  transformPageData(pageData) {
    if (pageData.relativePath === "index.md") pageData.frontmatter = { ...pageData.frontmatter, ...home };
  },
  title: "Palisade",
  description: "Production-readiness middleware for Express 4 and 5.",
  lang: "en-US",
  head: [["link", { rel: "icon", type: "image/svg+xml", href: "/favicon.svg" }]],
  srcExclude: ["**/node_modules/**", ".recipes-tmp/**", "README.md"],
  lastUpdated: false,
  ignoreDeadLinks: "localhostLinks",
  // Pages live at /reference/error-codes (no .html), the address warnOnce() links to (DOCS_ERRORS_URL).
  cleanUrls: true,
  themeConfig: {
    logo: "/favicon.svg",
    nav: [
      { text: "Quickstart", link: "/quickstart" },
      { text: "Reference", link: "/reference/core" },
      { text: "Guides", link: "/guides/" },
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
      { text: "Guides", link: "/guides/", items: pagesIn("guides", GUIDE_ORDER) },
      {
        text: "Project",
        items: [
          { text: "Changelog", link: "/changelog" },
          { text: "Contributing and releases", link: "/contributing/releasing" },
          { text: "Writing guides", link: "/contributing/writing-guides" },
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
