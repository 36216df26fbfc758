import { describe, expect, it } from "vitest";
import { inspect } from "./inspect.js";
import { shellNormalize } from "./rules.js";
import { expandVariables, globMatch, globSystemPath, shellAssignments } from "./shell.js";

const commandRules = (text: string) =>
  inspect(text)
    .filter((f) => f.kind === "command-injection")
    .map((f) => f.rule);

describe("shell expansion", () => {
  describe("variables", () => {
    it("reads assignments at word starts with shell quoting", () => {
      expect([...shellAssignments("a=/etc&&b='/pa ss'&&c=c\\at;x y=1")]).toEqual([
        ["a", "/etc"],
        ["b", "/pa ss"],
        ["c", "cat"],
        ["y", "1"],
      ]);
      expect(shellAssignments("x=$'cat';$x").get("x")).toBe("cat");
    });

    it("ignores `=` inside a word", () => {
      expect(shellAssignments("https://example.com/?q=1").size).toBe(0);
      expect(shellAssignments("a.b=c, 2+2=4").size).toBe(0);
      expect(shellAssignments("1+1=2").size).toBe(0);
    });

    it("substitutes assigned values, a space for $IFS and nothing for unset names", () => {
      expect(expandVariables("a=/etc&&c=cat&&$c $\u007ba}/passwd")).toBe("a=/etc&&c=cat&&cat /etc/passwd");
      expect(expandVariables("cat$IFS/etc/passwd")).toBe("cat /etc/passwd");
      expect(expandVariables("n$u\\c$u -l")).toBe("n\\c -l");
    });

    it("expands at most 256 variables and leaves the rest of the text as it is", () => {
      expect(expandVariables(`${"$x".repeat(300)}end`)).toBe(`${"$x".repeat(44)}end`);
    });

    it("leaves operator expansions and prices alone", () => {
      expect(expandVariables("$\u007bHOME:0:1}")).toBe("$\u007bHOME:0:1}");
      expect(expandVariables("$20 (cash)")).toBe("$20 (cash)");
      expect(expandVariables("$(id)")).toBe("$(id)");
    });

    it("caps the growth of the expanded text", () => {
      const text = `a=${"x".repeat(200)};${"$a".repeat(10_000)}`;
      expect(expandVariables(text).length).toBeLessThan(text.length + 4096 + 200);
    });
  });

  describe("globs", () => {
    it.each([
      ["??t", "cat", true],
      ["c*", "cat", true],
      ["[!q]asswd", "passwd", true],
      ["[m-z]asswd", "passwd", true],
      ["[!p]asswd", "passwd", false],
      ["*wd", "passwd", true],
      ["?s", "cat", false],
      ["ET*", "etc", true],
    ])("globMatch(%j, %j) is %s", (glob, name, expected) => {
      expect(globMatch(glob, name)).toBe(expected);
    });

    it("finds globbed system programs and files", () => {
      const any = () => true;
      expect(globSystemPath("/???/??t /e??/p??s??", any)).toBe(0);
      expect(globSystemPath("x /?s?/?i?/c?t", any)).toBe(2);
      expect(globSystemPath("/etc/[!q]asswd", any)).toBe(0);
    });

    it("ignores URLs, query strings and plain paths", () => {
      const any = () => true;
      expect(globSystemPath("https://example.com/a?b=c", any)).toBe(-1);
      expect(globSystemPath("/search?q=cat", any)).toBe(-1);
      expect(globSystemPath("/etc/passwd", any)).toBe(-1);
      expect(globSystemPath("what/???", any)).toBe(-1);
      expect(globSystemPath("/???", any)).toBe(-1);
      expect(globSystemPath("/etc/*", any)).toBe(-1);
    });
  });

  describe("shellNormalize()", () => {
    it("reads `+` as a space only in undecoded form data", () => {
      expect(shellNormalize(";+cat+/etc/passwd")).toBe("; cat /etc/passwd");
      expect(shellNormalize("C++ and 1+1")).toBe("C++ and 1+1");
      expect(shellNormalize("if+foo==")).toBe("if+foo==");
    });

    it("drops terminal escape sequences", () => {
      expect(shellNormalize("exit\n\u001b[2Acurl x")).toBe("exit\ncurl x");
    });

    it("expands braces holding globs and comments", () => {
      expect(shellNormalize("{,echo,#test}")).toBe("echo #test");
    });
  });
});

describe("command injection through shell syntax", () => {
  it.each([
    ["variable indirection", "a=/etc&&b=/passwd&&c=cat&&$c $a$b"],
    ["variable indirection", "a=nc&&$a -nlvp 555"],
    ["variable with glob class", "garb=adduse[r];$garb pizza"],
    ["ANSI-C quoted variable", "x=$'\\x63\\x61\\x74';$x /etc/passwd"],
    ["program spelled after a separator", "q;ec$@ho pwned"],
    ["plus after a program", "q=1;sleep+10"],
    ["unset variables", "{n$u\\c$u,-nlvp,777}"],
    ["empty expansion in a program name", "ping$() 127.0.0.1"],
    ["empty expansion in a program name", "ping`` 127.0.0.1"],
    ["plus for space", "www.google.com;c$@at+/et$@c/pas$@swd"],
    ["wildcard program path", "/???/b??h"],
    ["wildcard file path", "cat+/et*/*wd"],
    ["negated glob class", "/etc/[!q]asswd"],
    ["glob class in a directory", "/[e///]tc"],
    ["globs in braces", "{/?s?/?i?/c?t,}"],
    ["brace with comment", "{,echo,#test}"],
    ["bare program after a leading separator", "| id"],
    ["bare program after a single token", "a;id\\n"],
    ["vi shell escape", ";ex -c:\\!pwd"],
    ["source builtin", "ifconfig;. rm -rf /"],
    ["sh -c", "'TiMe Sh -c whoami"],
    ["program glued to a separator", "whoami;0'0'\""],
    ["lookup wrapper", "which perl"],
    ["relative bin path", "bin/visudo"],
    ["tool family", "ansible-playbook site.yml"],
    ["command in a query pair", "https://example.com/?args=env --version"],
    ["directory stack", "~+"],
    ["history expansion", "!-1!-2"],
    ["root argument", "cd /;cd etc;fold passwd"],
    ["alias with options", "alias +g+ a=b"],
    ["terminal escape", "\\necho INJECTX\\nexit\\n\\033[2Acurl https://example.com/x.txt\\n"],
  ])("detects %s: %j", (_technique, text) => {
    expect(commandRules(text)).not.toEqual([]);
  });

  it("reports package installs at level 2 only", () => {
    expect(commandRules("pip3 install something")).toEqual([]);
    expect(inspect("pip3 install something", { paranoiaLevel: 2 }).map((f) => f.rule)).toContain("cmd.command-line");
  });

  it.each([
    "Tom & Jerry; see you at 5",
    "cat lovers | dog people",
    "a/b testing",
    "$20 (cash)",
    "C++ and C#, 1+1=2",
    "Mike/Sarah; date",
    "Hi\nexit\n",
    "curl; no gel",
    "Curl & blow dry",
    "~5 min, ~ 10 minutes",
    "hello !-1",
    "which one?",
    "time for a cut",
    "https://example.com/search?q=find+me+a+barber",
    "name=John&time=5",
    "a=1&b=2",
    "recycle bin/trash",
    "/search?q=cat",
    "if+foo==",
    "What?! Really?!",
    "Price ~+10%",
    "sort by time",
    "a; 'cat' lovers",
    "Price: $5; $10 later",
    "Tom & 'Jerry'",
    "sleep+well",
    "C++;C#",
    "/etc/*",
  ])("does not flag %j", (text) => {
    expect(inspect(text)).toEqual([]);
  });
});
