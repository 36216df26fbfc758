import { type OptionChecks, PalisadeConfigError, suggest } from "@palisade/core";
import { DEFAULT_DENIED_FEATURES, PERMISSIONS_POLICY_FEATURES, type PermissionsPolicyDirectives } from "./options.js";

const ORIGIN = /^https?:\/\/[A-Za-z0-9.*-]+(?::\d{1,5})?$/;

/** Validates allowlists as written by a user; `null` drops a feature from the defaults. */
export function normalizePermissions(
  check: OptionChecks,
  prefix: string,
  raw: PermissionsPolicyDirectives,
): Map<string, readonly string[] | null> {
  const result = new Map<string, readonly string[] | null>();
  for (const [feature, allow] of Object.entries(raw)) {
    if (allow === undefined) continue;
    const option = `${prefix}.${feature}`;
    if (!(PERMISSIONS_POLICY_FEATURES as readonly string[]).includes(feature)) {
      const near = suggest(feature, PERMISSIONS_POLICY_FEATURES);
      const hint = near ? ` Did you mean \`${prefix}.${near}\`?` : " See the feature list in the README.";
      throw new PalisadeConfigError(
        "ERR_PALISADE_UNKNOWN_OPTION",
        option,
        `${check.scope}: unknown Permissions-Policy feature \`${option}\`.${hint}`,
      );
    }
    if (allow === null) {
      result.set(feature, null);
      continue;
    }
    if (!Array.isArray(allow)) check.fail(option, 'an array of "self", "*" or origins (empty denies), or null', allow);
    for (const entry of allow as unknown[]) {
      if (entry === "'self'") check.fail(option, '"self" (unquoted in Permissions-Policy)', entry);
      if (entry !== "self" && entry !== "*" && !(typeof entry === "string" && ORIGIN.test(entry))) {
        check.fail(option, 'an array of "self", "*" or origins such as "https://example.com"', entry);
      }
    }
    if (allow.includes("*") && allow.length > 1) check.fail(option, 'either ["*"] or a list without "*"', allow);
    result.set(feature, [...new Set(allow as string[])]);
  }
  return result;
}

/** Serialises the default denials merged with `allow` into a Permissions-Policy header value. */
export function permissionsPolicyHeader(allow: ReadonlyMap<string, readonly string[] | null>): string {
  const features = new Map<string, readonly string[]>(DEFAULT_DENIED_FEATURES.map((feature) => [feature, []]));
  for (const [feature, list] of allow) {
    if (list === null) features.delete(feature);
    else features.set(feature, list);
  }
  const parts: string[] = [];
  for (const [feature, list] of features) {
    if (list.length === 1 && list[0] === "*") parts.push(`${feature}=*`);
    else parts.push(`${feature}=(${list.map((entry) => (entry === "self" ? entry : `"${entry}"`)).join(" ")})`);
  }
  return parts.join(", ");
}
