import { describe, expect, it } from "vitest";
import {
  apiSection,
  codesIn,
  eventsIn,
  expandMarkers,
  publicPackages,
  rewriteReadmeLinks,
} from "./.vitepress/palisade.js";

// The build-time generation of the reference pages (docs/.vitepress/palisade.ts).

describe("rewriteReadmeLinks()", () => {
  it.each([
    ["[proxy](../../docs/guides/reverse-proxy.md)", "[proxy](/guides/reverse-proxy)"],
    ["[proxy](../../docs/guides/reverse-proxy.md#checklist)", "[proxy](/guides/reverse-proxy#checklist)"],
    ["[later](../../docs/guides/not-written-yet.md)", "[later](/guides/)"],
    [
      "[codes](https://palisade.dev/reference/error-codes#err_palisade_unknown_option)",
      "[codes](/reference/error-codes#err_palisade_unknown_option)",
    ],
    ["[later](https://palisade.dev/guides/not-written-yet)", "[later](/guides/)"],
    ["[core](../core/README.md)", "[core](/reference/core)"],
    ["[the source](src/rules.ts)", "the source"],
    ["[helmet](https://helmetjs.github.io/)", "[helmet](https://helmetjs.github.io/)"],
  ])("rewrites %s", (input, output) => {
    expect(rewriteReadmeLinks(input)).toBe(output);
  });

  it("leaves code blocks and code spans alone", () => {
    const text = "`handlers[i](req)`\n\n```js\nhandlers[i](req);\n```\n";
    expect(rewriteReadmeLinks(text)).toBe(text);
  });
});

describe("expandMarkers()", () => {
  it("leaves a page without markers unchanged", () => {
    expect(expandMarkers("# Title\n\ntext")).toBe("# Title\n\ntext");
  });

  it("wraps generated text in v-pre so that {{ never reaches Vue", () => {
    expect(expandMarkers("<!-- palisade:codes core -->")).toMatch(/^<div v-pre>\n\n[\s\S]*\n\n<\/div>$/);
  });

  it("lists core's codes with links to their anchors", () => {
    expect(expandMarkers("<!-- palisade:codes core -->")).toContain(
      "[`ERR_PALISADE_UNKNOWN_OPTION`](/reference/error-codes#err_palisade_unknown_option)",
    );
  });
});

describe("apiSection()", () => {
  it("documents core's functions with their signatures and examples", () => {
    const api = apiSection("core");
    expect(api).toContain("### `clientIp`");
    expect(api).toMatch(/function clientIp\(req: IncomingMessage, trusted\?: TrustedProxies/);
    expect(api).toContain("Example:");
  });

  it("renders an options interface as a table with defaults from the JSDoc", () => {
    const pkg = publicPackages().find((candidate) => candidate.short === "rate-limit");
    if (!pkg?.landed) return;
    const api = apiSection("rate-limit");
    expect(api).toContain("### `RateLimitOptions`");
    expect(api).toMatch(/\| `preset\?` \| `RateLimitPreset` \| `"api"` \|/);
  });

  it.each(publicPackages().filter((pkg) => pkg.landed))("documents every export of $name", (pkg) => {
    expect(apiSection(pkg.short).match(/^### /gm)?.length ?? 0).toBeGreaterThan(0);
  });
});

describe("codesIn() and eventsIn()", () => {
  it("finds the codes core raises, not the WRN_PALISADE_ template-literal type", () => {
    const codes = [...codesIn("core").keys()];
    expect(codes).toContain("ERR_PALISADE_INVALID_OPTION");
    expect(codes.every((code) => !code.endsWith("_"))).toBe(true);
  });

  it("lists event-name templates and skips strings that only look like events (SQL keywords)", () => {
    if (!publicPackages().find((pkg) => pkg.short === "input-sanitizer")?.landed) return;
    const events = eventsIn("input-sanitizer");
    expect(events).toContain("malicious_<kind>");
    expect(events).not.toContain("session_user");
  });

  it("finds the rate limiter's event", () => {
    if (!publicPackages().find((pkg) => pkg.short === "rate-limit")?.landed) return;
    expect(eventsIn("rate-limit")).toContain("excess_rate_limit_exceeded");
  });
});
