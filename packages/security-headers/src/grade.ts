/** One scored check, named after the Mozilla HTTP Observatory test and result it mirrors. */
export interface GradedTest {
  test: string;
  result: string;
  modifier: number;
  /** `false` for tests the headers alone cannot decide (cookies, CORS, subresource integrity). */
  evaluated: boolean;
}

export interface Grade {
  score: number;
  grade: string;
  tests: GradedTest[];
}

/** What only the deployment knows: whether the page is served over HTTPS and whether HTTP redirects there. */
export interface TransportFacts {
  /** The page is served over HTTPS with a valid certificate. */
  https?: boolean;
  /** `http://` answers with a redirect to the same host over `https://`. */
  redirectsToHttps?: boolean;
  /** The host is on the browsers' HSTS preload list. */
  hstsPreloaded?: boolean;
}

const BROAD = new Set(["ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"]);
const INLINE = new Set(["'unsafe-inline'", "data:"]);
const PASSIVE = ["img-src", "media-src"];
const SIX_MONTHS = 15_552_000;
const GOOD_REFERRERS = ["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"];
const BAD_REFERRERS = ["origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"];

function header(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function test(name: string, result: string, modifier: number, evaluated = true): GradedTest {
  return { test: name, result, modifier, evaluated };
}

/** Parses a policy the way the Observatory does: lower-cased, empty fetch lists read as `'none'`. */
function parse(value: string): Map<string, Set<string>> | "invalid" {
  const policy = new Map<string, Set<string>>();
  for (const part of value.split(";")) {
    const [rawName, ...sources] = part.trim().split(/\s+/);
    if (!rawName) continue;
    const name = rawName.toLowerCase();
    if (policy.has(name)) {
      if (name === "report-uri" || name === "report-to") continue;
      return "invalid";
    }
    const list = sources.map((source) => source.toLowerCase());
    policy.set(name, new Set(list.length === 0 && name.endsWith("-src") ? ["'none'"] : list));
  }
  return policy;
}

function cspTest(headers: Readonly<Record<string, string>>, https: boolean): { test: GradedTest; framing: boolean } {
  const value = header(headers, "Content-Security-Policy");
  if (!value) {
    const reportOnly = header(headers, "Content-Security-Policy-Report-Only");
    const result = reportOnly ? "csp-not-implemented-but-reporting-enabled" : "csp-not-implemented";
    return { test: test("content-security-policy", result, -25), framing: false };
  }
  const policy = parse(value);
  if (policy === "invalid" || policy.size === 0) {
    return { test: test("content-security-policy", "csp-header-invalid", -25), framing: false };
  }
  const fallback = (name: string) => new Set(policy.get(name) ?? policy.get("default-src") ?? ["*"]);
  const script = fallback("script-src");
  const style = fallback("style-src");
  const object = fallback("object-src");
  const hasNonceOrHash = (list: Set<string>) =>
    [...list].some((source) => /^'(nonce|sha256|sha384|sha512)-/.test(source));
  for (const list of [script, style]) if (hasNonceOrHash(list)) list.delete("'unsafe-inline'");
  if (script.has("'strict-dynamic'")) {
    if (!hasNonceOrHash(script))
      return { test: test("content-security-policy", "csp-header-invalid", -25), framing: false };
    for (const source of [...script]) {
      if ([...BROAD].some((broad) => source.startsWith(broad)) || source === "'self'" || source === "'unsafe-inline'") {
        script.delete(source);
      }
    }
  }
  const active = [...policy]
    .filter(([name]) => !PASSIVE.includes(name) && name !== "script-src")
    .flatMap(([, s]) => [...s]);
  active.push(...script);
  const passive = PASSIVE.flatMap((name) => [...(policy.get(name) ?? policy.get("default-src") ?? [])]);
  const insecure = (source: string) => source.startsWith("http:") || source.startsWith("ftp:");
  const defaultSrc = policy.get("default-src");
  let result: string;
  let modifier: number;
  if ([...script].some((s) => BROAD.has(s) || INLINE.has(s)) || [...object].some((s) => BROAD.has(s))) {
    [result, modifier] = ["csp-implemented-with-unsafe-inline", -20];
  } else if (https && active.some(insecure)) {
    [result, modifier] = ["csp-implemented-with-insecure-scheme", -20];
  } else if (script.has("'unsafe-eval'") || style.has("'unsafe-eval'")) {
    [result, modifier] = ["csp-implemented-with-unsafe-eval", -10];
  } else if (https && passive.some(insecure)) {
    [result, modifier] = ["csp-implemented-with-insecure-scheme-in-passive-content-only", -10];
  } else if ([...style].some((s) => BROAD.has(s) || INLINE.has(s))) {
    [result, modifier] = ["csp-implemented-with-unsafe-inline-in-style-src-only", 0];
  } else if (defaultSrc?.size === 1 && defaultSrc.has("'none'")) {
    [result, modifier] = ["csp-implemented-with-no-unsafe-default-src-none", 10];
  } else {
    [result, modifier] = ["csp-implemented-with-no-unsafe", 5];
  }
  const ancestors = policy.get("frame-ancestors");
  const framing = ancestors !== undefined && ![...ancestors].some((source) => BROAD.has(source));
  return { test: test("content-security-policy", result, modifier), framing };
}

function referrerTest(headers: Readonly<Record<string, string>>): GradedTest {
  const value = header(headers, "Referrer-Policy");
  if (value === undefined) return test("referrer-policy", "referrer-policy-not-implemented", 0);
  const tokens = value
    .split(",")
    .map((token) => token.trim().toLowerCase())
    .filter((token) => GOOD_REFERRERS.includes(token) || BAD_REFERRERS.includes(token));
  const last = tokens[tokens.length - 1];
  if (last === undefined) return test("referrer-policy", "referrer-policy-header-invalid", -5);
  return GOOD_REFERRERS.includes(last)
    ? test("referrer-policy", "referrer-policy-private", 5)
    : test("referrer-policy", "referrer-policy-unsafe", -5);
}

function frameTest(headers: Readonly<Record<string, string>>, framing: boolean): GradedTest {
  if (framing) return test("x-frame-options", "x-frame-options-implemented-via-csp", 5);
  const value = header(headers, "X-Frame-Options")?.trim().toLowerCase();
  if (value === undefined) return test("x-frame-options", "x-frame-options-not-implemented", -20);
  if (value === "deny" || value === "sameorigin")
    return test("x-frame-options", "x-frame-options-sameorigin-or-deny", 0);
  if (value.startsWith("allow-from")) return test("x-frame-options", "x-frame-options-allow-from-origin", 0);
  return test("x-frame-options", "x-frame-options-header-invalid", -20);
}

function noSniffTest(headers: Readonly<Record<string, string>>): GradedTest {
  const value = header(headers, "X-Content-Type-Options");
  if (value === undefined) return test("x-content-type-options", "x-content-type-options-not-implemented", -5);
  return value.trim().toLowerCase() === "nosniff"
    ? test("x-content-type-options", "x-content-type-options-nosniff", 0)
    : test("x-content-type-options", "x-content-type-options-header-invalid", -5);
}

function resourcePolicyTest(headers: Readonly<Record<string, string>>): GradedTest {
  const value = header(headers, "Cross-Origin-Resource-Policy")?.trim().toLowerCase();
  const name = "cross-origin-resource-policy";
  if (!value) return test(name, "cross-origin-resource-policy-not-implemented", 0);
  if (value === "same-origin") return test(name, "cross-origin-resource-policy-implemented-with-same-origin", 10);
  if (value === "same-site") return test(name, "cross-origin-resource-policy-implemented-with-same-site", 10);
  if (value === "cross-origin") return test(name, "cross-origin-resource-policy-implemented-with-cross-origin", 0);
  return test(name, "cross-origin-resource-policy-header-invalid", -5);
}

function hstsTest(headers: Readonly<Record<string, string>>, transport: TransportFacts): GradedTest {
  const name = "strict-transport-security";
  if (!transport.https) return test(name, "hsts-not-implemented-no-https", -20);
  if (transport.hstsPreloaded) return test(name, "hsts-preloaded", 5);
  const value = header(headers, "Strict-Transport-Security");
  if (value === undefined) return test(name, "hsts-not-implemented", -20);
  const maxAge = value
    .split(";")
    .map((part) => part.trim().toLowerCase())
    .find((part) => part.startsWith("max-age="));
  const seconds = maxAge === undefined ? Number.NaN : Number.parseInt(maxAge.slice(8), 10);
  if (Number.isNaN(seconds)) return test(name, "hsts-header-invalid", -20);
  return seconds < SIX_MONTHS
    ? test(name, "hsts-implemented-max-age-less-than-six-months", -10)
    : test(name, "hsts-implemented-max-age-at-least-six-months", 0);
}

function redirectionTest(transport: TransportFacts): GradedTest {
  if (transport.hstsPreloaded) return test("redirection", "redirection-all-redirects-preloaded", 0);
  return transport.redirectsToHttps
    ? test("redirection", "redirection-to-https", 0)
    : test("redirection", "redirection-missing", -20);
}

const GRADES: [number, string][] = [
  [100, "A+"],
  [90, "A"],
  [85, "A-"],
  [80, "B+"],
  [70, "B"],
  [65, "B-"],
  [60, "C+"],
  [50, "C"],
  [45, "C-"],
  [40, "D+"],
  [30, "D"],
  [25, "D-"],
];

/** Letter for a score: bonuses only count when the score without them is at least 90, as the Observatory does. */
function total(tests: GradedTest[]): { score: number; grade: string } {
  const bonus = tests.reduce((sum, t) => sum + t.modifier, 100);
  const penalised = tests.reduce((sum, t) => sum + Math.min(t.modifier, 0), 100);
  const score = Math.max(penalised >= 90 ? bonus : penalised, 0);
  const grade = GRADES.find(([floor]) => score >= floor)?.[1] ?? "F";
  return { score, grade };
}

/**
 * Grades a response's headers with the Mozilla HTTP Observatory's rules (its test names, results and
 * score modifiers): CSP, Referrer-Policy, framing, X-Content-Type-Options and CORP from the headers;
 * HSTS and redirection from `transport`, which a local server on plain HTTP cannot pass. Cookies,
 * CORS and subresource integrity depend on the page and count 0 here.
 *
 * @example
 * const { headers, withTransport } = gradeHeaders(res.getHeaders() as Record<string, string>, { https: true, redirectsToHttps: true });
 */
export function gradeHeaders(
  headers: Readonly<Record<string, string>>,
  transport?: TransportFacts,
): { headers: Grade; transport?: GradedTest[]; withTransport?: Grade } {
  const https = transport?.https ?? true;
  const csp = cspTest(headers, https);
  const tests = [
    csp.test,
    referrerTest(headers),
    frameTest(headers, csp.framing),
    noSniffTest(headers),
    resourcePolicyTest(headers),
    test("cookies", "cookies-not-evaluated", 0, false),
    test("cross-origin-resource-sharing", "cors-not-evaluated", 0, false),
    test("subresource-integrity", "sri-not-evaluated", 0, false),
  ];
  const headersGrade = { ...total(tests), tests };
  if (!transport) return { headers: headersGrade };
  const transportTests = [hstsTest(headers, transport), redirectionTest(transport)];
  const all = [...tests, ...transportTests];
  return { headers: headersGrade, transport: transportTests, withTransport: { ...total(all), tests: all } };
}
