import { recordingLogger } from "@palisade/test-utils";
import { describe, expect, it } from "vitest";
import { warnOnce } from "./logger.js";

describe("warnOnce()", () => {
  it("emits each code once per instance with a docs link", () => {
    const logger = recordingLogger();
    const warn = warnOnce(logger, "rateLimit");
    expect(warn("WRN_PALISADE_TRUST_PROXY", "trust proxy is off")).toBe(true);
    expect(warn("WRN_PALISADE_TRUST_PROXY", "trust proxy is off")).toBe(false);
    expect(logger.entries).toEqual([
      {
        level: "warn",
        message: "rateLimit: trust proxy is off",
        details: {
          code: "WRN_PALISADE_TRUST_PROXY",
          docs: "https://palisade.dev/reference/error-codes#wrn_palisade_trust_proxy",
        },
      },
    ]);
  });

  it("never throws when the logger does", () => {
    const warn = warnOnce(
      {
        warn() {
          throw new Error("sink down");
        },
      },
      "x",
    );
    expect(() => warn("WRN_PALISADE_X", "m")).not.toThrow();
  });
});
