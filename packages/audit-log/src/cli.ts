#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { keyBytes } from "./chain.js";
import { formatVerifyResult, verifyAuditTrail } from "./verify.js";

const USAGE = `usage: palisade-audit verify <dir> [--key-file <file>] [--file audit.log] [--json]

Checks the hash-chained audit trail in <dir> and prints OK, or the first record that was
altered, removed or reordered, or a truncated tail. The key comes from --key-file or the
AUDIT_HMAC_KEY environment variable. Exit status: 0 OK, 1 problem found, 2 usage error.`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return 0;
  }
  if (command !== "verify") {
    console.error(USAGE);
    return 2;
  }
  let dir: string | undefined;
  let keyFile: string | undefined;
  let file: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--key-file") keyFile = rest[++i];
    else if (arg.startsWith("--key-file=")) keyFile = arg.slice("--key-file=".length);
    else if (arg === "--file") file = rest[++i];
    else if (arg.startsWith("--file=")) file = arg.slice("--file=".length);
    else if (arg === "--json") json = true;
    else if (!arg.startsWith("-") && dir === undefined) dir = arg;
    else {
      console.error(`palisade-audit: unexpected argument ${JSON.stringify(arg)}\n\n${USAGE}`);
      return 2;
    }
  }
  if (!dir) {
    console.error(`palisade-audit: missing <dir>\n\n${USAGE}`);
    return 2;
  }
  let key: Buffer;
  try {
    if (keyFile) key = keyBytes(readFileSync(keyFile, "utf8"));
    else if (process.env.AUDIT_HMAC_KEY) key = keyBytes(process.env.AUDIT_HMAC_KEY);
    else {
      console.error("palisade-audit: no key: pass --key-file <file> or set AUDIT_HMAC_KEY");
      return 2;
    }
  } catch (error) {
    console.error(`palisade-audit: cannot read the key file: ${(error as Error).message}`);
    return 2;
  }
  let result: ReturnType<typeof verifyAuditTrail>;
  try {
    result = verifyAuditTrail(dir, key, file ? { file } : {});
  } catch (error) {
    console.error(`palisade-audit: cannot read ${dir}: ${(error as Error).message}`);
    return 2;
  }
  console.log(json ? JSON.stringify(result) : formatVerifyResult(result));
  return result.ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
