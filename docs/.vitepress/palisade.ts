import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

// Build-time helpers: the reference pages are assembled from the packages themselves (README,
// exported API, codes, security events), so the site cannot drift from the code.

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const packagesDir = join(repoRoot, "packages");
export const docsDir = join(repoRoot, "docs");

export interface PackageInfo {
  short: string;
  name: string;
  description: string;
  dir: string;
  /** Has code beyond the placeholder `export {};`. */
  landed: boolean;
}

export function publicPackages(): PackageInfo[] {
  return readdirSync(packagesDir)
    .filter((short) => existsSync(join(packagesDir, short, "package.json")))
    .map((short) => {
      const dir = join(packagesDir, short);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      const index = join(dir, "src/index.ts");
      const landed =
        existsSync(index) &&
        readFileSync(index, "utf8")
          .replace(/export \{\};?/, "")
          .trim().length > 0;
      return {
        short,
        dir,
        name: pkg.name as string,
        description: (pkg.description as string) ?? "",
        landed,
        private: pkg.private,
      };
    })
    .filter((pkg) => !pkg.private)
    .map(({ private: _, ...pkg }) => pkg);
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => /\.(ts|mts)$/.test(file) && !/\.(test|spec|bench)\.|\.d\.ts$/.test(file))
    .map((file) => join(dir, file));
}

export const CODE_PATTERN = /\b(?:ERR|WRN)_PALISADE_[A-Z0-9_]+\b/g;

/** Every ERR_/WRN_PALISADE_ code raised in a package's source (tests excluded), with the files that use it. */
export function codesIn(short: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(join(packagesDir, short, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const [code] of text.matchAll(CODE_PATTERN)) {
      // `WRN_PALISADE_${string}` in a type is a pattern, not a code.
      if (code.endsWith("_")) continue;
      const files = found.get(code) ?? [];
      const rel = relative(repoRoot, file);
      if (!files.includes(rel)) files.push(rel);
      found.set(code, files);
    }
  }
  return found;
}

/** Anchor of a code's section on the error-codes page; `warnOnce()` links to `#<code in lower case>`. */
export const codeAnchor = (code: string) => code.toLowerCase();

const FAMILY = "(?:authn|authz|excess|upload|input|malicious|privilege|sensitive|sequence|session|sys|user)_";
// `name: "authz_fail"` in an event object, and event names built from a template
// (`malicious_${kind}`) anywhere; other string literals (SQL keywords such as `session_user`) are not events.
const EVENT_NAME_PROPERTY = new RegExp(`\\bname:\\s*(["'\`])(${FAMILY}[a-z0-9_]*)\\1`, "g");
const EVENT_TEMPLATE = new RegExp(`\`(${FAMILY}[a-z0-9_]*\\$\\{[^\`]*)\``, "g");

/** Security event names a package's source raises (comments and tests excluded). */
export function eventsIn(short: string): string[] {
  if (short === "core") return [];
  const names = new Set<string>();
  for (const file of sourceFiles(join(packagesDir, short, "src"))) {
    const code = readFileSync(file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|\s)\/\/.*$/gm, "$1");
    for (const [, , name] of code.matchAll(EVENT_NAME_PROPERTY)) names.add(name!);
    for (const [, template] of code.matchAll(EVENT_TEMPLATE)) {
      names.add(template!.replace(/\$\{\s*([A-Za-z_$][\w$]*)?[^}]*\}/g, (_all, id?: string) => `<${id ?? "value"}>`));
    }
  }
  return [...names].sort();
}

/** Rewrites a package README's repository-relative links to site links. */
export function rewriteReadmeLinks(markdown: string): string {
  // Only prose: code blocks and code spans (`handlers[i](req)`) stay as written.
  return markdown
    .split(/(```[\s\S]*?```|`[^`\n]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : rewriteProseLinks(part)))
    .join("");
}

function rewriteProseLinks(text: string): string {
  return (
    text
      .replace(/\]\((?:\.\.\/)+docs\/([^)#]+?)\.md(#[^)]*)?\)/g, (_all, page: string, hash = "") =>
        // A README may name a guide that is not written yet: send readers to the guides' index.
        existsSync(join(docsDir, `${page}.md`)) ? `](/${page}${hash})` : "](/guides/)",
      )
      .replace(/\]\((?:\.\.\/)+packages\/([a-z-]+)\/README\.md(#[^)]*)?\)/g, "](/reference/$1$2)")
      .replace(/\]\(\.\.\/([a-z-]+)\/README\.md(#[^)]*)?\)/g, "](/reference/$1$2)")
      .replace(/\]\(https:\/\/palisade\.dev\/([^)#]*?)(?:\.html)?(#[^)]*)?\)/g, (_all, page: string, hash = "") =>
        existsSync(join(docsDir, `${page || "index"}.md`)) || existsSync(join(docsDir, page, "index.md"))
          ? `](/${page}${hash})`
          : "](/guides/)",
      )
      // Any other repository-relative link (a source file, an example) has no page on the site:
      // keep its text. Images are left alone.
      .replace(/(?<!!)\[([^\]]+)\]\((?!https?:|\/|#|mailto:)[^)]*\)/g, "$1")
  );
}

function readme(short: string): string {
  const file = join(packagesDir, short, "README.md");
  if (!existsSync(file)) return `_The package README has not been written yet._`;
  const text = readFileSync(file, "utf8")
    .replace(/^# .*\n/, "")
    // Its headings go one level down, under this page's "Overview".
    .replace(/^(#{2,5}) /gm, "#$1 ");
  return rewriteReadmeLinks(text);
}

const cell = (text: string) => text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim();
const code = (text: string) => (text.includes("`") ? cell(text) : `\`${cell(text)}\``);

let cachedProgram: ts.Program | undefined;
function program(): ts.Program {
  if (cachedProgram) return cachedProgram;
  const roots = publicPackages()
    .filter((pkg) => pkg.landed)
    .map((pkg) => join(pkg.dir, "src/index.ts"));
  cachedProgram = ts.createProgram(roots, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    customConditions: ["@palisade/source"],
    types: ["node"],
    typeRoots: [join(repoRoot, "node_modules/@types")],
  });
  return cachedProgram;
}

/** Forgets the compiled program (the dev server calls it when a package source changes). */
export function resetApiCache(): void {
  cachedProgram = undefined;
}

function docsOf(symbol: ts.Symbol, checker: ts.TypeChecker): { text: string; example?: string; defaults?: string } {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker));
  const tags = symbol.getJsDocTags(checker);
  const example = tags.find((tag) => tag.name === "example");
  const defaultTag = tags.find((tag) => tag.name === "default" || tag.name === "defaultValue");
  const defaults =
    (defaultTag && ts.displayPartsToString(defaultTag.text)) ?? /Defaults? to `([^`]+)`/.exec(text)?.[1] ?? undefined;
  return { text, example: example && ts.displayPartsToString(example.text), defaults };
}

function memberTable(type: ts.Type, checker: ts.TypeChecker, at: ts.Node): string {
  const rows: string[] = [];
  for (const prop of checker.getPropertiesOfType(type)) {
    const decl = prop.valueDeclaration ?? prop.declarations?.[0];
    let typeText: string;
    if (decl && (ts.isPropertySignature(decl) || ts.isPropertyDeclaration(decl)) && decl.type) {
      typeText = decl.type.getText();
    } else if (decl && (ts.isMethodSignature(decl) || ts.isMethodDeclaration(decl))) {
      typeText = decl.getText().replace(/^[\s\S]*?(?=\()/, "");
    } else {
      typeText = checker.typeToString(checker.getTypeOfSymbolAtLocation(prop, decl ?? at));
    }
    const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
    const { text, defaults } = docsOf(prop, checker);
    const description = text.replace(/\s*Defaults? to `[^`]+`\.?/, "");
    rows.push(
      `| ${code(prop.name + (optional ? "?" : ""))} | ${code(typeText)} | ${defaults ? code(defaults) : ""} | ${cell(description)} |`,
    );
  }
  if (rows.length === 0) return "";
  return ["| name | type | default | description |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

function fence(text: string, lang = "ts"): string {
  return `\`\`\`${lang}\n${text.trim()}\n\`\`\``;
}

/** Markdown for every export of a package's `src/index.ts`: signatures, options tables, instance APIs. */
export function apiSection(short: string): string {
  const entry = join(packagesDir, short, "src/index.ts");
  const prog = program();
  const source = prog.getSourceFile(entry);
  if (!source) return "_The package has not landed yet; see its README._";
  const checker = prog.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) return "_No exports yet._";
  const out: string[] = [];
  const exports = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name));
  const rank = (symbol: ts.Symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (target.flags & ts.SymbolFlags.Function) return 0;
    if (target.flags & ts.SymbolFlags.Class) return 1;
    if (target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias))
      return /Options$/.test(symbol.name) ? 2 : 3;
    return 4;
  };
  exports.sort((a, b) => rank(a) - rank(b));
  for (const exported of exports) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.valueDeclaration ?? symbol.declarations?.[0];
    if (!decl) continue;
    const { text, example } = docsOf(symbol, checker);
    const parts: string[] = [`### \`${exported.name}\``];
    if (symbol.flags & ts.SymbolFlags.Function) {
      const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
      const signatures = type.getCallSignatures();
      // The source's own spelling of the signature reads better than the checker's expansion.
      const declarations = (symbol.declarations ?? []).filter(ts.isFunctionDeclaration);
      const overloads = declarations.filter((fn) => !fn.body);
      const written = (overloads.length > 0 ? overloads : declarations).map((fn) => {
        const typeParameters = fn.typeParameters ? `<${fn.typeParameters.map((p) => p.getText()).join(", ")}>` : "";
        const returned = fn.type
          ? fn.type.getText()
          : checker.typeToString(checker.getReturnTypeOfSignature(checker.getSignatureFromDeclaration(fn)!));
        return `function ${exported.name}${typeParameters}(${fn.parameters.map((p) => p.getText()).join(", ")}): ${returned}`;
      });
      parts.push(
        written.length > 0
          ? fence(written.join("\n"))
          : fence(
              signatures
                .map(
                  (sig) =>
                    `function ${exported.name}${checker.signatureToString(sig, undefined, ts.TypeFormatFlags.NoTruncation)}`,
                )
                .join("\n"),
            ),
      );
      if (text) parts.push(text);
      const returned = signatures[0] && checker.getReturnTypeOfSignature(signatures[0]);
      if (returned && returned.getCallSignatures().length > 0 && checker.getPropertiesOfType(returned).length > 0) {
        parts.push("The returned function also carries:", memberTable(returned, checker, decl));
      }
    } else if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) {
      if (text) parts.push(text);
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      const table = memberTable(type, checker, decl);
      if (table) parts.push(table);
    } else if (symbol.flags & ts.SymbolFlags.TypeAlias && ts.isTypeAliasDeclaration(decl)) {
      const declared = decl.type.getText();
      parts.push(
        fence(`type ${exported.name} = ${declared.length > 600 ? `${declared.slice(0, 600)} ...` : declared}`),
      );
      if (text) parts.push(text);
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      if (ts.isTypeLiteralNode(decl.type)) parts.push(memberTable(type, checker, decl));
    } else if (symbol.flags & ts.SymbolFlags.Variable && ts.isVariableDeclaration(decl)) {
      const callable =
        decl.initializer && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer));
      const init = callable ? "" : (decl.initializer?.getText() ?? "");
      const shown =
        init.length > 0 && init.length < 700
          ? ` = ${init}`
          : `: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, decl))}`;
      parts.push(fence(`const ${exported.name}${shown}`));
      if (text) parts.push(text);
    } else {
      if (text) parts.push(text);
    }
    if (example) parts.push("Example:", fence(example.replace(/^```\w*\n?|```$/g, "")));
    out.push(parts.join("\n\n"));
  }
  return out.join("\n\n");
}

function codesTable(short: string): string {
  const codes = [...codesIn(short).keys()].sort();
  if (codes.length === 0) return "This package raises no codes of its own.";
  return [
    "| code | kind |",
    "| --- | --- |",
    ...codes.map(
      (c) =>
        `| [\`${c}\`](/reference/error-codes#${codeAnchor(c)}) | ${c.startsWith("ERR_") ? "`PalisadeConfigError` at startup" : "warning, once per instance"} |`,
    ),
  ].join("\n");
}

function eventsList(short: string): string {
  const names = eventsIn(short);
  if (names.length === 0) return "This package emits no security events of its own.";
  return `Event names in the OWASP logging vocabulary that this package raises. Events about a request reach the sinks attached to it through \`emitSecurityEvent()\` (\`@palisade/audit-log\` attaches one); events outside any request go where the overview above says. \`<kind>\` stands for each value of the list it is built from.\n\n${names.map((n) => `- \`${n}\``).join("\n")}`;
}

function undocumentedCodes(pageSource: string): string {
  const all = new Map<string, { packages: string[]; message?: string }>();
  for (const pkg of publicPackages()) {
    for (const [c, files] of codesIn(pkg.short)) {
      const entry = all.get(c) ?? { packages: [] };
      entry.packages.push(pkg.name);
      if (!entry.message) {
        for (const file of files) {
          const text = readFileSync(join(repoRoot, file), "utf8");
          const at = text.indexOf(c);
          const near = text.slice(at + c.length, at + c.length + 500);
          const literal = /(["'`])((?:(?!\1)[^\\]|\\.){20,}?)\1/.exec(near);
          if (literal) {
            entry.message = literal[2];
            break;
          }
        }
      }
      all.set(c, entry);
    }
  }
  const missing = [...all]
    .filter(([c]) => !pageSource.includes(`{#${codeAnchor(c)}}`))
    .sort(([a], [b]) => a.localeCompare(b));
  if (missing.length === 0) return "";
  return [
    "## Codes without a written explanation yet",
    "These codes appear in the packages' source but have no section above yet; the message they are raised with is shown.",
    ...missing.map(
      ([c, { packages, message }]) =>
        `### ${c} {#${codeAnchor(c)}}\n\nRaised by ${packages.map((p) => `\`${p}\``).join(", ")}.${message ? `\n\n> ${message.replace(/\$\{[^}]*\}/g, "…")}` : ""}`,
    ),
  ].join("\n\n");
}

function changelogs(): string {
  return publicPackages()
    .map((pkg) => {
      const file = join(pkg.dir, "CHANGELOG.md");
      if (!existsSync(file)) return `## ${pkg.name}\n\nNot released yet.`;
      const body = readFileSync(file, "utf8")
        .replace(/^# .*\n/, "")
        .replace(/^(#{2,5}) /gm, "#$1 ");
      return `## ${pkg.name}\n\n${rewriteReadmeLinks(body)}`;
    })
    .join("\n\n");
}

/** The guides' order in the sidebar and on the guides' index; unlisted guides follow alphabetically. */
export const GUIDE_ORDER = [
  "express4-in-10-lines",
  "reverse-proxy",
  "security-headers",
  "stripe-csp",
  "report-only-rollout",
  "input-sanitizer-allowlist",
  "escape-at-output",
  "redis-login-rate-limit",
  "kubernetes",
  "logs-and-audit-chain",
  "sqlite-tuning",
  "prometheus-grafana",
  "performance",
  "migrating",
];

function guideList(): string {
  return pagesIn("guides", GUIDE_ORDER)
    .map(({ text, link }) => `- [${text}](${link})`)
    .join("\n");
}

const MARKER = /<!--\s*palisade:(readme|api|codes|events|undocumented-codes|changelogs|guides)(?:\s+([a-z-]+))?\s*-->/g;

/**
 * Expands `<!-- palisade:<what> <package> -->` markers in a page's markdown. Generated text is
 * wrapped in `v-pre` so that `{{` in a type or message never reaches Vue's template compiler.
 */
export function expandMarkers(src: string): string {
  if (!src.includes("palisade:")) return src;
  return src.replace(MARKER, (_all, what: string, short: string | undefined) => {
    let body: string;
    if (what === "readme") body = readme(short!);
    else if (what === "api") body = apiSection(short!);
    else if (what === "codes") body = codesTable(short!);
    else if (what === "events") body = eventsList(short!);
    else if (what === "undocumented-codes") body = undocumentedCodes(src);
    else if (what === "guides") body = guideList();
    else body = changelogs();
    return `<div v-pre>\n\n${body}\n\n</div>`;
  });
}

/** `{ text, link }` for every page in a docs folder, titled by its first heading. */
export function pagesIn(folder: string, order: string[] = []): { text: string; link: string }[] {
  const dir = join(docsDir, folder);
  const files = readdirSync(dir).filter((file) => file.endsWith(".md") && file !== "index.md");
  const position = (file: string) => {
    const at = order.indexOf(file.replace(/\.md$/, ""));
    return at === -1 ? order.length : at;
  };
  files.sort((a, b) => position(a) - position(b) || a.localeCompare(b));
  return files.map((file) => {
    const title = /^#\s+(.+)$/m.exec(readFileSync(join(dir, file), "utf8"))?.[1] ?? file;
    return { text: title.replace(/`/g, ""), link: `/${folder}/${file.replace(/\.md$/, "")}` };
  });
}
