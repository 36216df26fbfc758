import { describe, expect, it } from "vitest";
import { PalisadeConfigError } from "./errors.js";
import { describeValue, optionChecks, suggest } from "./validate.js";

const check = optionChecks("securityHeaders");

function thrown(fn: () => unknown): PalisadeConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PalisadeConfigError) return error;
    throw error;
  }
  throw new Error("expected a PalisadeConfigError");
}

describe("optionChecks()", () => {
  describe("knownKeys", () => {
    it("names a misspelled key and suggests the nearest accepted one", () => {
      const error = thrown(() => check.knownKeys({ maxage: 1 }, ["maxAge", "includeSubDomains", "preload"], "hsts."));
      expect(error.message).toBe("securityHeaders: unknown option `hsts.maxage`. Did you mean `hsts.maxAge`?");
      expect(error.code).toBe("ERR_PALISADE_UNKNOWN_OPTION");
      expect(error.option).toBe("hsts.maxage");
    });

    it("lists the accepted keys when nothing is close", () => {
      const error = thrown(() => check.knownKeys({ zzzzzzzz: 1 }, ["mode", "logger"]));
      expect(error.message).toBe("securityHeaders: unknown option `zzzzzzzz`. Accepted options: `mode`, `logger`.");
    });

    it("accepts known keys", () => {
      expect(() => check.knownKeys({ mode: "block" }, ["mode"])).not.toThrow();
    });
  });

  describe("number", () => {
    it("rejects a negative value for a non-negative integer with the exact message", () => {
      const error = thrown(() => check.number("hsts.maxAge", -1, 0, { min: 0, integer: true }));
      expect(error.message).toBe("securityHeaders: option `hsts.maxAge` must be a non-negative integer, got -1.");
      expect(error.code).toBe("ERR_PALISADE_INVALID_OPTION");
    });

    it.each([
      [Number.NaN, "NaN"],
      ["5", '"5"'],
      [1.5, "1.5"],
    ])("rejects %s", (value, shown) => {
      expect(thrown(() => check.number("limit", value, 1, { min: 1, integer: true })).message).toBe(
        `securityHeaders: option \`limit\` must be a positive integer, got ${shown}.`,
      );
    });

    it("describes a bounded range", () => {
      expect(thrown(() => check.number("paranoiaLevel", 5, 1, { min: 1, max: 4, integer: true })).message).toBe(
        "securityHeaders: option `paranoiaLevel` must be an integer from 1 to 4, got 5.",
      );
    });

    it("returns the fallback for undefined and the value otherwise", () => {
      expect(check.number("x", undefined, 7)).toBe(7);
      expect(check.number("x", 3, 7)).toBe(3);
    });
  });

  describe("oneOf", () => {
    it("lists the accepted values", () => {
      const modes = ["block", "report"] as const;
      expect(thrown(() => check.oneOf("mode", "warn", modes, "block")).message).toBe(
        'securityHeaders: option `mode` must be one of "block", "report", got "warn".',
      );
      expect(check.oneOf("mode", undefined, modes, "block")).toBe("block");
    });
  });

  describe("object", () => {
    it("rejects arrays and checks nested keys with the dotted prefix", () => {
      expect(thrown(() => check.object("hsts", [] as unknown as object, ["maxAge"])).message).toBe(
        "securityHeaders: option `hsts` must be an object, got an array.",
      );
      expect(thrown(() => check.object("hsts", { maxAg: 1 }, ["maxAge"])).option).toBe("hsts.maxAg");
    });
  });

  it.each([
    ["boolean", () => check.boolean("reportOnly", "yes", false), 'a boolean, got "yes"'],
    ["string", () => check.string("name", "", "x"), 'a non-empty string, got ""'],
    ["stringArray", () => check.stringArray("origins", ["a", 1], []), "an array of strings, got an array"],
    ["func", () => check.func("onFinding", 3), "a function, got 3"],
  ])("%s names what it accepts", (_kind, call, expected) => {
    expect(thrown(call).message).toContain(expected);
  });
});

describe("suggest()", () => {
  it("prefers a case-insensitive match", () => {
    expect(suggest("MAXAGE", ["maxAge", "max"])).toBe("maxAge");
  });

  it("returns undefined when nothing is near", () => {
    expect(suggest("completelyDifferent", ["mode"])).toBeUndefined();
  });
});

describe("describeValue()", () => {
  it("truncates long strings", () => {
    expect(describeValue("a".repeat(100))).toBe(`"${"a".repeat(57)}..."`);
  });
});
