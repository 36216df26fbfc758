import { createApp } from "@palisade/test-utils";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { gradeHeaders } from "./grade.js";
import { securityHeaders } from "./security-headers.js";
import { securityReport } from "./security-report.js";

const HELMET_DEFAULTS = {
  "Content-Security-Policy":
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Referrer-Policy": "no-referrer",
  "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "SAMEORIGIN",
};

describe("gradeHeaders()", () => {
  it("scores helmet's defaults 120 (A+) over HTTPS with a redirect, as the Observatory does", () => {
    const grade = gradeHeaders(HELMET_DEFAULTS, { https: true, redirectsToHttps: true });
    expect(grade.withTransport?.score).toBe(120);
    expect(grade.withTransport?.grade).toBe("A+");
    expect(grade.headers.tests[0]).toEqual({
      test: "content-security-policy",
      result: "csp-implemented-with-unsafe-inline-in-style-src-only",
      modifier: 0,
      evaluated: true,
    });
  });

  it("scores the webApp preset 130 from the headers alone", () => {
    const grade = gradeHeaders(securityHeaders().effective.headers);
    expect(grade.headers.score).toBe(130);
    expect(grade.headers.tests.map((t) => [t.test, t.modifier])).toEqual([
      ["content-security-policy", 10],
      ["referrer-policy", 5],
      ["x-frame-options", 5],
      ["x-content-type-options", 0],
      ["cross-origin-resource-policy", 10],
      ["cookies", 0],
      ["cross-origin-resource-sharing", 0],
      ["subresource-integrity", 0],
    ]);
  });

  it.each([
    [{}, 30, "D"],
    [{ "Content-Security-Policy": "default-src *; script-src 'unsafe-inline'" }, 35, "D"],
    [
      {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'self'",
        "Strict-Transport-Security": "max-age=31536000",
      },
      105,
      "A+",
    ],
  ])("grades %j as %d (%s) with transport", (headers, score, letter) => {
    const grade = gradeHeaders(headers, { https: true, redirectsToHttps: true });
    expect(grade.withTransport?.score).toBe(score);
    expect(grade.withTransport?.grade).toBe(letter);
  });

  it("gives no bonus when penalties bring the score under 90", () => {
    const headers = { ...HELMET_DEFAULTS, "X-Content-Type-Options": "sniff" };
    expect(gradeHeaders(headers, { https: false, redirectsToHttps: false }).withTransport?.score).toBe(55);
  });
});

describe("securityReport()", () => {
  it("reports each instance's headers and grades, transport apart", () => {
    const pages = securityHeaders({ preset: "webApp" });
    const api = securityHeaders({ preset: "api" });
    const report = securityReport({ pages, api }, { https: true, redirectsToHttps: true });
    expect(Object.keys(report.policies)).toEqual(["pages", "api"]);
    expect(report.policies.pages!.headers["X-Frame-Options"]).toBe("DENY");
    expect(report.policies.pages!.grade.score).toBe(130);
    expect(report.policies.pages!.withTransport.score).toBe(130);
    expect(report.transport.tests.map((t) => t.result)).toEqual([
      "hsts-implemented-max-age-at-least-six-months",
      "redirection-to-https",
    ]);
  });

  it("infers plain HTTP from the request and scores transport apart", async () => {
    const pages = securityHeaders();
    const app = createApp();
    app.get("/security", (req, res) => {
      res.json(securityReport({ pages }, { req }));
    });
    const response = await request(app).get("/security");
    expect(response.body.transport.https).toBe(false);
    expect(response.body.policies.pages.grade).toMatchObject({ score: 130, grade: "A+" });
    expect(response.body.policies.pages.withTransport).toMatchObject({ score: 60, grade: "C+" });
  });

  it("rejects what is not a securityHeaders() instance", () => {
    expect(() => securityReport({ pages: (() => {}) as never })).toThrow(
      "securityReport: option `pages` must be a securityHeaders() middleware, got a function.",
    );
  });
});
