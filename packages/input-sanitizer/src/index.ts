export { type InputSanitizerLocals, inputSanitizer } from "./input-sanitizer.js";
export { inspect } from "./inspect.js";
export {
  type AllowEntry,
  DECODINGS,
  FIELD_HINTS,
  type FieldHint,
  type Finding,
  type InputSanitizerOptions,
  type InspectOptions,
  type InspectRequestOptions,
  KINDS,
  type Kind,
  MODES,
  type Mode,
  PARANOIA_LEVELS,
  type ParanoiaLevel,
  type RequestInspection,
  SOURCES,
  type Source,
} from "./options.js";
export { inspectRequest } from "./request.js";
export { inspectUpload, UPLOAD_RULES, type UploadDescription, type UploadFinding, type UploadRule } from "./upload.js";
