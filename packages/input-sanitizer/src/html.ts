// An HTML tokenizer for XSS: find tags the way a browser would start one ("<" then a letter,
// "/", "!" or "?"), read the tag name and attributes, and judge tags, event handlers and URL
// schemes; plus the attribute-breakout and script-sink shapes that need no tag.

export interface XssHit {
  rule: string;
  paranoiaLevel: 1 | 2 | 3 | 4;
  index: number;
}

const ALWAYS_DANGEROUS = new Set([
  "script",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "applet",
  "base",
  "import",
  "vmlframe",
  "xss",
  "isindex",
  "xml",
  "layer",
  "ilayer",
  "bgsound",
  "portal",
]);
const RISKY_TAGS = new Set([
  "style",
  "meta",
  "link",
  "form",
  "svg",
  "math",
  "template",
  "noscript",
  "marquee",
  "animate",
  "set",
  "handler",
  "listener",
  "textarea",
  "image",
  "video",
  "audio",
  "source",
  "details",
]);
// Tags that load or restyle content by themselves.
const LOADING_TAGS = new Set(["style", "link", "meta", "math", "listener", "handler", "set", "animate", "stylesheet"]);
const DATA_BINDING = new Set([
  "datasrc",
  "datafld",
  "dataformatas",
  "ev:event",
  "ev:handler",
  "implementation",
  "behavior",
  "xmlns:ev",
]);
const PI_ATTACK = /^(?:xml-stylesheet|import|xml:namespace)\b/;
// CSS that reaches outside a declaration: url(), escapes, comments, braces, bindings.
const STYLE_TRICK = /url\s{0,16}\(|\\[0-9a-f]|\/\*|[{}[\]]|binding|behaviou?r|@import|&#/i;
const SPELLED_TAGS = new Set([
  "script",
  "form",
  "dialog",
  "iframe",
  "object",
  "embed",
  "svg",
  "style",
  "img",
  "body",
  "input",
  "frame",
  "applet",
  "meta",
  "link",
  "base",
  "math",
  "video",
  "audio",
]);
const JS_COMMENT = /\/\*[^*]{0,200}\*\//g;
const UTF7 = /(?:^|[^a-z0-9+])\+?ADw-\s{0,3}[a-z/!]/i;

const URL_ATTRIBUTES = new Set([
  "href",
  "src",
  "data",
  "action",
  "formaction",
  "xlink:href",
  "background",
  "lowsrc",
  "dynsrc",
  "poster",
  "codebase",
  "code",
  "content",
  "to",
  "from",
  "values",
  "by",
  "srcdoc",
  "ev:handler",
  "folder",
  "xmlns",
  "style",
  "value",
  "attributename",
]);

// A letter, "!", "?", ":", "%" or "/".
const isTagStart = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 33 || c === 63 || c === 58 || c === 37 || c === 47;
const isSpaceLike = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "/";

/** `javascript:`, `vbscript:`, `data:text/html` after removing what browsers ignore inside a scheme. */
export function dangerousScheme(value: string): boolean {
  // Every dangerous scheme starts with j, v, l, m or d: skip the rest when the first character
  // that counts (after spaces and control characters) is another ASCII character.
  let first = 0;
  while (first < value.length && value.charCodeAt(first) <= 32) first++;
  const f = value.charCodeAt(first) | 0x20;
  if (
    first === value.length ||
    (value.charCodeAt(first) < 0x80 && f !== 106 && f !== 118 && f !== 108 && f !== 109 && f !== 100)
  )
    return false;
  // Browsers drop leading spaces and control characters (tab, newline) inside the scheme.
  let compact = "";
  for (let i = 0; i < value.length && compact.length < 200; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || (c === 32 && compact.length === 0)) continue;
    compact += value[i]!.toLowerCase();
  }
  const script = SCRIPT_SCHEME.exec(compact);
  // Control characters inside the scheme name are obfuscation; plain text never has them.
  if (script && /^\s*[a-z]{0,10}[\t\n\r][a-z\t\n\r]{0,12}:/i.test(value)) return true;
  // "Javascript: the good parts" is a book; code after the scheme has code characters.
  if (script) return SCRIPT_BODY.test(compact.slice(script[0].length));
  return (
    compact.startsWith("data:text/html") ||
    compact.startsWith("data:image/svg") ||
    compact.startsWith("data:application/x") ||
    compact.startsWith("data:text/xml") ||
    (compact.startsWith("data:") &&
      compact.includes(";base64,") &&
      !compact.startsWith("data:image/png") &&
      !compact.startsWith("data:image/jpeg") &&
      !compact.startsWith("data:image/gif") &&
      !compact.startsWith("data:image/webp"))
  );
}

const SCRIPT_BODY = /[(`=\\%&;/[]/;
const SCRIPT_SCHEME = /^(?:java|vb|live)script:|^mocha:/;
const SCHEME_AFTER = /(?:^|[=("'\s])\s{0,16}(?:java|vb|live)script\s{0,16}:/;
const EVENT_NAME = /^on[a-z]{3,40}$/;
// Attribute breakout outside a tag: a quote or slash, then `on...=`.
const BREAKOUT =
  /^\s{1,16}on[a-z]{3,40}\s{0,16}=|["'`]\s{0,16}(?:formaction|srcdoc|xlink:href)\s{0,16}=|["'`]\s{0,16}on[a-z]{3,40}\s{0,16}=/gi;
const BARE_EVENT =
  /(?:^|[\s;])on(?:load|error|click|mouse[a-z]{2,10}|focus[a-z]{0,4}|blur|key[a-z]{2,5}|submit|change|input|toggle|begin|end|start|finish|animation[a-z]{3,9}|transition[a-z]{3,9}|pointer[a-z]{2,10}|drag[a-z]{0,5}|drop|scroll|resize|wheel|copy|cut|paste|zoom|show|hashchange|message|pageshow|popstate|readystatechange|beforeunload|unload|abort|auxclick|contextmenu|dblclick|play|playing|pause|seeked|seeking|search|select|webkit[a-z]{3,40}|[a-z]{3,40}(?=\s{0,16}=\s{0,16}[a-z]{2,20}\s{0,16}[(`]))\s{0,16}=/gi;
const JS_SINK =
  /\b(?:alert|eval|prompt|confirm|execScript|setTimeout|setInterval|Function|fetch|atob)\s{0,16}(?:\(\s{0,16}(?:[\d'"`/)[]|document|window|location|this|top|self|parent|String|atob|\w+\s{0,16}\.\s{0,16}\w+\s{0,16}\))|`)/g;
const JS_OBJECT =
  /\.\s{0,16}(?:innerHTML|outerHTML|textContent|insertAdjacentHTML|appendChild)\s{0,16}[=(]|\b(?:window|self|top|parent|document|globalThis|frames|content)\s{0,16}\)?\s{0,16}\[\s{0,16}["'`]|!\s{0,4}!?\s{0,4}\[\s{0,4}\]\s{0,4}[)[+]|\b(?:setTimeout|setInterval|execScript)\s{0,16}\(\s{0,16}\w{1,40}\s{0,16},|\b(?:document\s{0,16}\.\s{0,16}(?:cookie|domain|write|writeln|location|body|querySelector|getElementById|getElementsBy\w{1,20}|createElement|forms|scripts)|window\s{0,16}\.\s{0,16}(?:location|name|open)|String\s{0,16}\.\s{0,16}fromCharCode|\.constructor\s{0,16}\.\s{0,16}constructor|\.call\s{0,16}`|\.apply\s{0,16}`|top\s{0,16}\[|self\s{0,16}\[|globalThis\s{0,16}\[|Reflect\s{0,16}\.\s{0,16}(?:apply|construct|get)|navigation\s{0,16}\.\s{0,16}navigate|import\s{0,16}\(\s{0,16}['"`])/g;
const CSS_ATTACK =
  /(?::\s{0,16}expression\s{0,16}\(|expression\s{0,16}\(\s{0,16}(?:alert|eval|javascript|document|window)|-moz-binding\s{0,16}:|\bbehaviou?r\s{0,16}:\s{0,16}url|url\s{0,16}\(\s{0,16}['"]?\s{0,16}(?:javascript|vbscript|data:text\/html)\s{0,16}:?|@import\b)/gi;
const TEMPLATE_SORT =
  /\]\s{0,16}\.\s{0,16}sort\s{0,16}\.\s{0,16}call\s{0,16}`|\$\{\s{0,16}(?:alert|eval|prompt|confirm)\b/g;

// The script-shape rules, in order (xssHits says what each needs before it runs).
const SCRIPT_RULES = [
  [BREAKOUT, "xss.attribute-breakout", 1],
  [BARE_EVENT, "xss.event-handler", 1],
  [JS_SINK, "xss.script-call", 1],
  [JS_OBJECT, "xss.script-object", 1],
  [CSS_ATTACK, "xss.css", 1],
  [TEMPLATE_SORT, "xss.script-call", 1],
  [UTF7, "xss.utf7", 1],
] as const;

const hasCall = (text: string) => text.includes("(") || text.includes("`");
// What each script-shape rule cannot match without (every alternative of its regex needs one of
// these; html.test.ts checks the pairs). JS_OBJECT and JS_SINK see the text with comments
// folded to spaces, which adds no character and joins no word.
const SCRIPT_GATES: readonly ((text: string, lower: string) => boolean)[] = [
  // BREAKOUT: an event name, `formaction`, `srcdoc` or `xlink:href`, then "=".
  (text, lower) =>
    text.includes("=") && (lower.includes("on") || lower.includes("srcdoc") || lower.includes("xlink:href")),
  // BARE_EVENT: an event name, then "=".
  (text, lower) => lower.includes("on") && text.includes("="),
  // JS_SINK: a call or a template.
  hasCall,
  // JS_OBJECT (case-sensitive): an assignment, call, index or template, or one of its objects by name.
  (text) =>
    (text.includes(".") || text.includes("[") || hasCall(text)) &&
    (text.includes("=") ||
      text.includes("[") ||
      hasCall(text) ||
      text.includes("document") ||
      text.includes("window") ||
      text.includes("String") ||
      text.includes("constructor") ||
      text.includes("Reflect") ||
      text.includes("navigation")),
  // CSS_ATTACK: `expression(`, `url(`, a property colon or `@import`.
  (text) => hasCall(text) || text.includes(":") || text.includes("@"),
  // TEMPLATE_SORT: a template or `${`.
  (text) => text.includes("`") || text.includes("${"),
  // UTF7 (case-insensitive): the encoded "<".
  (_text, lower) => lower.includes("adw-"),
];

/** Each script-shape regex with the gate that must pass wherever it matches (for the tests). */
export const SCRIPT_GATE_PAIRS: readonly (readonly [gate: (text: string) => boolean, rule: RegExp])[] =
  SCRIPT_RULES.map(([regex], r) => [(text: string) => SCRIPT_GATES[r]!(text, text.toLowerCase()), regex] as const);

/** XSS hits in `text`. */
export function xssHits(text: string): XssHit[] {
  const hits: XssHit[] = [];
  const lower = text.toLowerCase();
  const n = text.length;
  let tags = 0;
  for (let i = lower.indexOf("<"); i >= 0 && i < n && tags < 200; i = lower.indexOf("<", i + 1)) {
    let j = i + 1;
    if (!isTagStart(text.charCodeAt(j))) continue;
    tags++;
    if (text[j] === "/") j++;
    if (lower.startsWith("!--", j - 0)) {
      continue;
    }
    // Processing instructions (<?xml ...?>) are not elements; <?php is code injection's business.
    if (text[j] === "?") {
      // <?xml version ...?> is a declaration; stylesheet, import and namespace instructions load code.
      const pi = PI_ATTACK.exec(lower.slice(j + 1, j + 24));
      if (pi)
        hits.push({ rule: "xss.processing-instruction", paranoiaLevel: pi[0] === "xml-stylesheet" ? 2 : 1, index: i });
      continue;
    }
    if (text[j] === "!" || text[j] === "%") j++;
    const nameStart = j;
    while (j < n && /[a-zA-Z0-9:_-]/.test(text[j]!)) j++;
    const name = lower.slice(nameStart, j).replace(/^:+/, "");
    // `<f o r m`: a tag name spelled out with spaces.
    if (name.length === 1 && text[j] === " " && /[a-z]/i.test(text[j + 1] ?? "")) {
      let k = j;
      let spelled = name;
      while (
        text[k] === " " &&
        /[a-z]/i.test(text[k + 1] ?? "") &&
        !/[a-z]/i.test(text[k + 2] ?? "") &&
        spelled.length < 12
      ) {
        spelled += lower[k + 1];
        k += 2;
      }
      if (spelled.length >= 3 && SPELLED_TAGS.has(spelled))
        hits.push({ rule: "xss.spelled-tag", paranoiaLevel: 1, index: i });
    }
    if (!name) continue;
    const bare = name.includes(":") ? name.slice(name.lastIndexOf(":") + 1) : name;
    if (ALWAYS_DANGEROUS.has(bare)) hits.push({ rule: "xss.dangerous-tag", paranoiaLevel: 1, index: i });
    else if (RISKY_TAGS.has(bare) || LOADING_TAGS.has(bare))
      hits.push({
        rule: "xss.risky-tag",
        paranoiaLevel: LOADING_TAGS.has(bare) || name.startsWith("xsl:") ? 1 : 2,
        index: i,
      });
    else if (/^[a-z]/.test(bare)) hits.push({ rule: "xss.tag", paranoiaLevel: 3, index: i });
    // Attributes, up to the closing ">" (or the end: truncated payloads count).
    let attrs = 0;
    while (j < n && attrs < 64) {
      while (j < n && isSpaceLike(text[j]!)) j++;
      if (j >= n || text[j] === ">" || text[j] === "<") break;
      const attrStart = j;
      while (j < n && !isSpaceLike(text[j]!) && text[j] !== "=" && text[j] !== ">") j++;
      const attr = lower.slice(attrStart, j).replace(/^["'`]+/, "");
      attrs++;
      let k = j;
      while (k < n && (text[k] === " " || text[k] === "\t" || text[k] === "\n" || text[k] === "\r")) k++;
      let value = "";
      if (text[k] === "=") {
        k++;
        while (k < n && (text[k] === " " || text[k] === "\t" || text[k] === "\n" || text[k] === "\r")) k++;
        const q = text[k];
        if (q === '"' || q === "'" || q === "`") {
          const end = text.indexOf(q, k + 1);
          value = text.slice(k + 1, end < 0 ? n : end);
          k = end < 0 ? n : end + 1;
        } else {
          const start = k;
          while (k < n && !/[\s>]/.test(text[k]!)) k++;
          value = text.slice(start, k);
        }
        j = k;
      } else if (j === attrStart) j++;
      if (EVENT_NAME.test(attr)) hits.push({ rule: "xss.event-handler", paranoiaLevel: 1, index: i });
      else if ((URL_ATTRIBUTES.has(attr) || attr.endsWith(":href")) && dangerousScheme(value)) {
        hits.push({ rule: "xss.script-url", paranoiaLevel: 1, index: i });
      } else if (attr === "style" && (CSS_ATTACK.test(value) || STYLE_TRICK.test(value))) {
        hits.push({ rule: "xss.css", paranoiaLevel: 1, index: i });
      } else if (DATA_BINDING.has(attr) || (attr === "attributename" && /href|on[a-z]/i.test(value))) {
        hits.push({ rule: "xss.dangerous-attribute", paranoiaLevel: 1, index: i });
      } else if (attr === "http-equiv" && /refresh|link|set-cookie/i.test(value)) {
        hits.push({ rule: "xss.meta-refresh", paranoiaLevel: 1, index: i });
      }
      CSS_ATTACK.lastIndex = 0;
    }
  }
  // JavaScript comments between tokens (`document/*x*/.cookie`) fold away for the script rules.
  const folded = text.includes("/*") ? text.replace(JS_COMMENT, " ") : text;
  for (let r = 0; r < SCRIPT_RULES.length; r++) {
    const [regex, rule, level] = SCRIPT_RULES[r]!;
    if (!SCRIPT_GATES[r]!(text, lower)) continue;
    regex.lastIndex = 0;
    const subject = regex === JS_OBJECT || regex === JS_SINK ? folded : text;
    const m = regex.exec(subject);
    // `/manual/document.cookie` is a path segment, not script.
    if (m && regex === JS_OBJECT && m.index > 0 && subject[m.index - 1] === "/") continue;
    if (m) hits.push({ rule, paranoiaLevel: level, index: m.index });
    regex.lastIndex = 0;
  }
  // A dangerous scheme as the whole value (a URL field) or right after "=".
  const scheme = lower.includes("script") ? lower.search(SCHEME_AFTER) : -1;
  if (scheme >= 0 && dangerousScheme(text.slice(scheme).replace(/^[=("'\s]+/, ""))) {
    hits.push({ rule: "xss.script-url", paranoiaLevel: 1, index: scheme });
  } else if (dangerousScheme(text)) hits.push({ rule: "xss.script-url", paranoiaLevel: 1, index: 0 });
  return hits;
}

/** The word lists the XSS rules judge by (for the plain-text pre-filter's keyword set). */
export const HTML_WORD_SETS: readonly ReadonlySet<string>[] = [
  ALWAYS_DANGEROUS,
  RISKY_TAGS,
  LOADING_TAGS,
  DATA_BINDING,
  SPELLED_TAGS,
  URL_ATTRIBUTES,
];

export const HTML_REGEXES: readonly RegExp[] = [
  SCRIPT_SCHEME,
  JS_COMMENT,
  PI_ATTACK,
  STYLE_TRICK,
  UTF7,
  SCRIPT_BODY,
  SCHEME_AFTER,
  EVENT_NAME,
  BREAKOUT,
  BARE_EVENT,
  JS_SINK,
  JS_OBJECT,
  CSS_ATTACK,
  TEMPLATE_SORT,
];
