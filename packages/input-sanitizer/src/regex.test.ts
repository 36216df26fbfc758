import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import safeRegex from "safe-regex2";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { HTML_REGEXES } from "./html.js";
import { RULE_REGEXES } from "./rules.js";
import { SQL_REGEXES } from "./sql.js";

const srcDir = fileURLToPath(new URL(".", import.meta.url));

// Every regex literal in the package's source, found through the TypeScript parser, plus the
// patterns built with `new RegExp(...)` (exported in the *_REGEXES lists).
function literals(): { file: string; regex: RegExp }[] {
  const out: { file: string; regex: RegExp }[] = [];
  for (const file of readdirSync(srcDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const source = ts.createSourceFile(file, readFileSync(join(srcDir, file), "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = node.getText(source);
        const end = text.lastIndexOf("/");
        out.push({ file, regex: new RegExp(text.slice(1, end), text.slice(end + 1)) });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

describe("regular expressions", () => {
  const found = literals();
  const built = [...SQL_REGEXES, ...HTML_REGEXES, ...RULE_REGEXES].map((regex) => ({ file: "built", regex }));

  it("finds the package's regex literals", () => {
    expect(found.length).toBeGreaterThan(40);
  });

  it.each([...found, ...built].map(({ file, regex }) => [file, regex.source.slice(0, 60), regex] as const))(
    "%s: /%s/ has no nested quantifier (safe-regex2)",
    (_file, _source, regex) => {
      expect(safeRegex(regex, { limit: 1000 })).toBe(true);
    },
  );
});
