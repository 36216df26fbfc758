// Small, bounded pieces of a POSIX shell's word expansion, so the command rules see the words a
// shell would run rather than the spelling an attacker chose: variable assignments and their use
// (`a=/etc&&c=cat&&$c $a/passwd`, unset `$x` expanding to nothing) and pathname globs that
// resolve to a system program or file (`/???/c?t`, `/e??/pa[!q]swd`). Every loop is linear in
// the input and capped; no regular expression here has a nested quantifier.

const MAX_ASSIGNMENTS = 32;
const MAX_VALUE = 200;
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /\w/;
// Characters after which a new shell word, and so an assignment, may start.
const WORD_BREAK = new Set([";", "&", "|", "\n", "\r", "(", "`", " ", "\t", "{"]);
const VALUE_END = new Set([";", "&", "|", "\n", "\r", ")", "`", " ", "\t"]);

/** Reads one assignment value from `i` with shell quoting (`'...'`, `"..."`, `\x`); returns [value, end]. */
function readValue(text: string, i: number): [string, number] {
  let value = "";
  let j = i;
  while (j < text.length && j - i < MAX_VALUE && !VALUE_END.has(text[j]!)) {
    const c = text[j]!;
    // ANSI-C quoting `$'...'`: the escapes inside are decoded by the escape variant.
    if (c === "$" && text[j + 1] === "'") {
      j++;
      continue;
    }
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, j + 1);
      const end = close < 0 || close - j > MAX_VALUE ? Math.min(text.length, j + MAX_VALUE) : close;
      value += text.slice(j + 1, end);
      j = end + 1;
    } else if (c === "\\" && j + 1 < text.length) {
      value += text[j + 1];
      j += 2;
    } else {
      value += c;
      j++;
    }
  }
  return [value, j];
}

/** `name=value` assignments at word starts, at most 32, first-seen order; later ones win. */
export function shellAssignments(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  if (!text.includes("=")) return vars;
  let from = 0;
  for (let count = 0; count < 4 * MAX_ASSIGNMENTS && vars.size < MAX_ASSIGNMENTS; count++) {
    const eq = text.indexOf("=", from);
    if (eq < 0) break;
    from = eq + 1;
    let start = eq;
    while (start > 0 && eq - start < 32 && NAME_CHAR.test(text[start - 1]!)) start--;
    if (start === eq || !NAME_START.test(text[start]!)) continue;
    if (start > 0 && !WORD_BREAK.has(text[start - 1]!)) continue;
    const [value, end] = readValue(text, eq + 1);
    vars.set(text.slice(start, eq), value);
    from = Math.max(from, end);
  }
  return vars;
}

/**
 * Replaces `$name` and `${name}` with the value assigned earlier in the same string, `$IFS` with a
 * space and any other (unset) variable with nothing, as a shell would. `${name<operator>...}`,
 * `$(`, `$((` and `$[` are left for the expansion rules. The result is at most 4 KiB longer.
 */
// More expansions than a command line has: past this many, the rest of the text is left as it is
// (a megabyte of `$x` would otherwise be rebuilt piece by piece).
const MAX_EXPANSIONS = 256;

export function expandVariables(text: string): string {
  if (!text.includes("$")) return text;
  const vars = shellAssignments(text);
  let out = "";
  let budget = 4096;
  let last = 0;
  let expansions = 0;
  for (
    let i = text.indexOf("$");
    i >= 0 && i < text.length && expansions < MAX_EXPANSIONS;
    i = text.indexOf("$", i + 1)
  ) {
    const braced = text[i + 1] === "{";
    let j = braced ? i + 2 : i + 1;
    if (!NAME_START.test(text[j] ?? "")) continue;
    const nameStart = j;
    while (j < text.length && j - nameStart < 32 && NAME_CHAR.test(text[j]!)) j++;
    if (braced && text[j] !== "}") continue;
    const name = text.slice(nameStart, j);
    const value = name === "IFS" ? " " : (vars.get(name) ?? "");
    budget -= value.length;
    if (budget < 0) break;
    expansions++;
    out += text.slice(last, i) + value;
    last = braced ? j + 1 : j;
    i = last - 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

// ---------------------------------------------------------------- globs

/** Whether a glob segment (`?`, `*`, `[...]`, `[!...]`, `[a-z]`) matches a whole name. */
export function globMatch(glob: string, name: string): boolean {
  // Iterative matcher with one star backtrack point: O(glob × name) at worst, both short.
  let g = 0;
  let n = 0;
  let starG = -1;
  let starN = 0;
  while (n < name.length) {
    const c = glob[g];
    if (c === "*") {
      starG = g++;
      starN = n;
      continue;
    }
    if (c !== undefined) {
      let step = 0;
      if (c === "?") step = 1;
      else if (c === "[") {
        const close = glob.indexOf("]", g + 2);
        if (close > 0) {
          if (classMatches(glob.slice(g + 1, close), name[n]!)) step = close - g + 1;
        } else if (name[n] === "[") step = 1;
      } else if (c.toLowerCase() === name[n]) step = 1;
      if (step > 0) {
        g += step;
        n++;
        continue;
      }
    }
    if (starG < 0) return false;
    g = starG + 1;
    n = ++starN;
  }
  while (glob[g] === "*") g++;
  return g === glob.length;
}

function classMatches(body: string, ch: string): boolean {
  const negate = body[0] === "!" || body[0] === "^";
  const set = negate ? body.slice(1) : body;
  let hit = false;
  for (let k = 0; k < set.length; k++) {
    const c = set[k]!.toLowerCase();
    // A `?` or `*` inside a class is matched loosely: filters treat `[?]` as a wildcard too.
    if (c === "?" || c === "*") hit = true;
    else if (set[k + 1] === "-" && k + 2 < set.length) {
      if (ch >= c && ch <= set[k + 2]!.toLowerCase()) hit = true;
      k += 2;
    } else if (c === ch) hit = true;
  }
  return negate ? !hit : hit;
}

const BIN_DIRS = ["bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin"];
const SYSTEM_FILES: Readonly<Record<string, readonly string[]>> = {
  etc: ["passwd", "shadow", "group", "gshadow", "hosts", "hostname", "issue", "sudoers", "crontab", "fstab", "profile"],
  proc: ["self", "version", "cmdline", "environ"],
  dev: ["tcp", "udp"],
};
// Path-like runs: the glob and path characters, no nesting.
const GLOB_TOKEN = /[\w.?*[\]!^/-]{3,200}/g;
const MAX_GLOBS = 8;

/** Splits a glob path on `/` outside `[...]`, dropping empty segments (`//` is `/`). */
function segments(path: string): string[] {
  const out: string[] = [];
  let current = "";
  let inClass = false;
  for (const c of path) {
    if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    if (c === "/" && !inClass) {
      if (current) out.push(current);
      current = "";
    } else current += c;
  }
  if (current) out.push(current);
  return out;
}

const hasGlob = (segment: string) => /[?*[]/.test(segment);

/**
 * The first absolute path in `text` written with glob characters that a shell would expand to a
 * program in a system `bin` directory or to a sensitive system file: `/???/??t`, `/et*\/pa?swd`.
 * `isProgram` says whether a name is a known program. Returns the match index, or -1.
 */
export function globSystemPath(text: string, isProgram: (name: string) => boolean): number {
  if (!text.includes("/") || !/[?*[]/.test(text)) return -1;
  GLOB_TOKEN.lastIndex = 0;
  let globs = 0;
  for (let m = GLOB_TOKEN.exec(text); m && globs < MAX_GLOBS; m = GLOB_TOKEN.exec(text)) {
    const token = m[0];
    if (token[0] !== "/" || !hasGlob(token)) continue;
    globs++;
    const parts = segments(token);
    if (parts.length > 4 || parts.some((p) => p.length > 40)) continue;
    // `/[e]tc` spells a system directory with a class; `/???` alone could be anything.
    if (parts.length === 1) {
      const only = parts[0]!;
      if (/[a-z][^/]{0,40}[a-z]/i.test(only.replace(/\[[^\]]{0,40}\]/g, "")) || /\[/.test(only)) {
        if (["etc", "bin", "sbin", "proc", "dev", "usr"].some((d) => globMatch(only, d))) return m.index;
      }
      continue;
    }
    const file = parts[parts.length - 1]!;
    // `/etc/*` lists a directory; a pattern shaped like one name (`pa?swd`, `c*t`) picks a target.
    if (/^\*{1,40}$/.test(file)) continue;
    const dir = parts.slice(0, -1);
    for (const bin of BIN_DIRS) {
      const want = bin.split("/");
      if (want.length !== dir.length || !dir.every((d, k) => globMatch(d, want[k]!))) continue;
      // A literal program name under a globbed directory, or a glob that matches some program.
      if (!hasGlob(file) ? isProgram(file.toLowerCase()) : programMatches(file, isProgram)) return m.index;
    }
    if (dir.length === 1) {
      for (const [root, files] of Object.entries(SYSTEM_FILES)) {
        if (globMatch(dir[0]!, root) && files.some((f) => globMatch(file, f))) return m.index;
      }
    }
  }
  return -1;
}

// Programs a globbed file name is tried against: the usual targets of `/???/??t`-style evasion.
const GLOB_PROGRAMS = [
  "sh",
  "bash",
  "dash",
  "zsh",
  "ksh",
  "csh",
  "cat",
  "ls",
  "id",
  "nc",
  "ncat",
  "netcat",
  "wget",
  "curl",
  "whoami",
  "uname",
  "python",
  "python3",
  "perl",
  "ruby",
  "php",
  "ps",
  "rm",
  "cp",
  "mv",
  "chmod",
  "echo",
  "env",
  "head",
  "tail",
  "more",
  "less",
  "base64",
  "busybox",
  "telnet",
  "socat",
  "ping",
  "sleep",
];

function programMatches(glob: string, isProgram: (name: string) => boolean): boolean {
  return GLOB_PROGRAMS.some((p) => isProgram(p) && globMatch(glob, p));
}
