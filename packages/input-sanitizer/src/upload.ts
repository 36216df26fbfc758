import { optionChecks } from "@palisade/core";
import { variantsOf } from "./decode.js";

/** What an upload handler (multer, busboy) knows about one file before storing it. */
export interface UploadDescription {
  /** The client-supplied file name. */
  filename: string;
  /** The client-declared content type. Defaults to none. */
  mimeType?: string;
  /** The first bytes of the content (16 or more is enough). Defaults to none. */
  firstBytes?: Uint8Array;
}

export const UPLOAD_RULES = [
  "upload.path-component",
  "upload.traversal",
  "upload.control-character",
  "upload.double-extension",
  "upload.executable-extension",
  "upload.executable-type",
  "upload.executable-content",
  "upload.type-mismatch",
] as const;
export type UploadRule = (typeof UPLOAD_RULES)[number];

export interface UploadFinding {
  rule: UploadRule;
  /** One sentence, safe to log (the file name is not repeated). */
  reason: string;
}

const EXECUTABLE_EXTENSIONS = new Set([
  "php",
  "php3",
  "php4",
  "php5",
  "php7",
  "phtml",
  "phar",
  "pht",
  "phps",
  "asp",
  "aspx",
  "ascx",
  "ashx",
  "asmx",
  "cer",
  "asa",
  "jsp",
  "jspx",
  "jsw",
  "jsv",
  "jspf",
  "cfm",
  "cfml",
  "cgi",
  "pl",
  "py",
  "rb",
  "sh",
  "bash",
  "exe",
  "dll",
  "com",
  "bat",
  "cmd",
  "vbs",
  "vbe",
  "js",
  "mjs",
  "cjs",
  "jse",
  "wsf",
  "wsh",
  "ps1",
  "psm1",
  "scr",
  "msi",
  "hta",
  "jar",
  "war",
  "svg",
  "html",
  "htm",
  "xhtml",
  "shtml",
  "xht",
  "htaccess",
  "config",
  "swf",
  "lnk",
  "reg",
  "so",
  "elf",
  "apk",
]);
const EXECUTABLE_TYPES =
  /^(?:application\/(?:x-(?:php|httpd-php|sh|csh|executable|msdownload|msdos-program|dosexec|java-archive|bat|perl|python)|java-archive|javascript|ecmascript|xhtml\+xml|hta|vnd\.microsoft\.portable-executable)|text\/(?:html|javascript|x-php|x-python|x-shellscript|x-perl|ecmascript)|image\/svg\+xml)\b/i;

// Magic bytes of common declared types, and of content that should never arrive as an image
// or document.
const SIGNATURES: { type: RegExp; test: (b: Uint8Array) => boolean }[] = [
  { type: /^image\/png$/i, test: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 },
  { type: /^image\/jpe?g$/i, test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: /^image\/gif$/i, test: (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 },
  { type: /^image\/webp$/i, test: (b) => b[0] === 0x52 && b[1] === 0x49 && b[8] === 0x57 && b[9] === 0x45 },
  { type: /^application\/pdf$/i, test: (b) => b[0] === 0x25 && b[1] === 0x50 && b[2] === 0x44 && b[3] === 0x46 },
  { type: /^application\/(?:zip|vnd\.openxmlformats)/i, test: (b) => b[0] === 0x50 && b[1] === 0x4b },
];
const EXECUTABLE_CONTENT: { name: string; test: (b: Uint8Array, head: string) => boolean }[] = [
  { name: "a Windows executable", test: (b) => b[0] === 0x4d && b[1] === 0x5a },
  { name: "an ELF executable", test: (b) => b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46 },
  { name: "a script", test: (_b, head) => head.startsWith("#!") },
  { name: "PHP code", test: (_b, head) => /<\?(?:php|=)/i.test(head) },
  { name: "HTML or script markup", test: (_b, head) => /<(?:script|html|svg|iframe|body)\b/i.test(head) },
  { name: "a Java class", test: (b) => b[0] === 0xca && b[1] === 0xfe && b[2] === 0xba && b[3] === 0xbe },
];

/**
 * Checks an upload's name, declared type and first bytes: path components and traversal in
 * the name, double and executable extensions, executable types, and content whose magic bytes
 * contradict the declared type. Use it in a multer `fileFilter` or a busboy `file` handler.
 *
 * @example
 * import multer from "multer";
 * import { inspectUpload } from "@palisade/input-sanitizer";
 * const upload = multer({
 *   fileFilter: (_req, file, cb) => cb(null, inspectUpload({ filename: file.originalname, mimeType: file.mimetype }).length === 0),
 * });
 */
export function inspectUpload(upload: Readonly<UploadDescription>): UploadFinding[] {
  const check = optionChecks("inspectUpload");
  check.object("", upload, ["filename", "mimeType", "firstBytes"]);
  check.string("filename", upload.filename, "", { nonEmpty: false });
  const mimeType = check.string("mimeType", upload.mimeType, "", { nonEmpty: false });
  if (upload.firstBytes !== undefined && !(upload.firstBytes instanceof Uint8Array)) {
    check.fail("firstBytes", "a Uint8Array or Buffer", upload.firstBytes);
  }
  const findings: UploadFinding[] = [];
  const add = (rule: UploadRule, reason: string) => {
    if (!findings.some((f) => f.rule === rule)) findings.push({ rule, reason });
  };
  for (const { text } of variantsOf(upload.filename.slice(0, 1024))) {
    if (/[\u0000-\u001f\u007f]/.test(text))
      add("upload.control-character", "The file name contains control characters.");
    if (/(?:^|[/\\])\.\.(?:[/\\]|$)/.test(text)) add("upload.traversal", "The file name climbs out of its directory.");
    if (/[/\\]|^[a-zA-Z]:/.test(text)) add("upload.path-component", "The file name contains a path.");
    const base = text
      .split(/[/\\]/)
      .pop()!
      .replace(/[\s.]+$/, "")
      .toLowerCase();
    const parts = base.replace(/::\$data$/i, "").split(".");
    const extensions = parts.slice(1).map((e) => e.replace(/[;:%\x00].*$/, ""));
    if (extensions.length > 0 && EXECUTABLE_EXTENSIONS.has(extensions[extensions.length - 1]!)) {
      add("upload.executable-extension", "The file name has an executable or active-content extension.");
    } else if (extensions.slice(0, -1).some((e) => EXECUTABLE_EXTENSIONS.has(e))) {
      add("upload.double-extension", "The file name hides an executable extension before another one.");
    }
    if (/[;:%]/.test(base) && extensions.some((e) => EXECUTABLE_EXTENSIONS.has(e))) {
      add("upload.double-extension", "The file name hides an executable extension.");
    }
  }
  if (mimeType && EXECUTABLE_TYPES.test(mimeType))
    add("upload.executable-type", "The declared type is executable or active content.");
  const bytes = upload.firstBytes;
  if (bytes && bytes.length > 0) {
    const head = Buffer.from(bytes.subarray(0, 512)).toString("latin1");
    const executable = EXECUTABLE_CONTENT.find((sig) => sig.test(bytes, head.trimStart()));
    if (executable) add("upload.executable-content", `The content is ${executable.name}.`);
    const signature = SIGNATURES.find((sig) => sig.type.test(mimeType));
    if (signature && !signature.test(bytes))
      add("upload.type-mismatch", "The content does not match the declared type.");
  }
  return findings;
}
