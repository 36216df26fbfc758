import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@palisade/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { keyBytes } from "./chain.js";
import { auditFiles, KEY } from "./test-helpers.js";
import { formatVerifyResult, verifyAuditTrail } from "./verify.js";
import { ChainWriter } from "./writer.js";

const dirs: { cleanup(): void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

/** A trail of `count` events in files of about 1 KB (about 8 records each). */
function trail(count = 30) {
  const tmp = tempDir("palisade-verify-");
  dirs.push(tmp);
  const writer = new ChainWriter({
    dir: tmp.path,
    file: "audit.log",
    maxSize: 1024,
    maxFiles: 0,
    key: keyBytes(KEY),
    durable: true,
    fsync: false,
    onWarning: () => {},
  });
  for (let i = 1; i <= count; i++) {
    writer.write(`${JSON.stringify({ event: "payment_captured", detail: { paymentId: i, note: "n".repeat(90) } })}\n`);
  }
  writer.close();
  return tmp.path;
}

const lines = (dir: string, file: string) => readFileSync(join(dir, file), "utf8").split("\n").slice(0, -1);
const rewrite = (dir: string, file: string, content: string[]) =>
  writeFileSync(join(dir, file), content.map((line) => `${line}\n`).join(""));
const verify = (dir: string) => verifyAuditTrail(dir, keyBytes(KEY));

describe("verifyAuditTrail()", () => {
  it("passes on an intact chain across rotated files", () => {
    const dir = trail();
    const result = verify(dir);
    expect(result).toMatchObject({ ok: true, firstSeq: 1, notes: [] });
    expect(result.files.length).toBeGreaterThan(2);
    expect(result.lastSeq).toBe(result.records);
    expect(formatVerifyResult(result)).toBe(
      `OK: ${result.records} records in ${result.files.length} file(s), seq 1..${result.lastSeq}`,
    );
  });

  it("detects a modified record", () => {
    const dir = trail();
    const content = lines(dir, "audit.2.log");
    content[3] = content[3]!.replace(/"paymentId":(\d+)/, '"paymentId":999');
    rewrite(dir, "audit.2.log", content);
    expect(verify(dir).problem).toMatchObject({ kind: "altered", file: "audit.2.log", line: 4 });
  });

  it("detects a modified hmac", () => {
    const dir = trail();
    const content = lines(dir, "audit.1.log");
    content[2] = content[2]!.replace(/"hmac":"(.)/, (_match, first) => `"hmac":"${first === "a" ? "b" : "a"}`);
    rewrite(dir, "audit.1.log", content);
    expect(verify(dir).problem).toMatchObject({ kind: "altered", file: "audit.1.log", line: 3 });
  });

  it("detects a deleted record", () => {
    const dir = trail();
    const content = lines(dir, "audit.2.log");
    content.splice(2, 1);
    rewrite(dir, "audit.2.log", content);
    expect(verify(dir).problem).toMatchObject({ kind: "removed", file: "audit.2.log", line: 3 });
    expect(verify(dir).problem!.message).toMatch(/1 record\(s\) removed/);
  });

  it("detects reordered records", () => {
    const dir = trail();
    const content = lines(dir, "audit.2.log");
    [content[2], content[3]] = [content[3]!, content[2]!];
    rewrite(dir, "audit.2.log", content);
    expect(verify(dir).problem).toMatchObject({ kind: "reordered", file: "audit.2.log", line: 3 });
  });

  it("detects a torn (truncated) last line", () => {
    const dir = trail();
    const last = auditFiles(dir).at(-1)!;
    const text = readFileSync(join(dir, last), "utf8");
    writeFileSync(join(dir, last), text.slice(0, text.length - 20));
    expect(verify(dir).problem).toMatchObject({ kind: "truncated", file: last });
  });

  it("detects whole records cut from the tail of a rotated file", () => {
    const dir = trail();
    const content = lines(dir, "audit.1.log");
    rewrite(dir, "audit.1.log", content.slice(0, -2));
    expect(verify(dir).problem).toMatchObject({ kind: "truncated", file: "audit.2.log", line: 1 });
  });

  it("detects a removed seal (records cut from the head of a file)", () => {
    const dir = trail();
    rewrite(dir, "audit.2.log", lines(dir, "audit.2.log").slice(1));
    expect(verify(dir).problem).toMatchObject({ kind: "removed", file: "audit.2.log", line: 1 });
  });

  it("detects a missing file in the middle", () => {
    const dir = trail();
    rmSync(join(dir, "audit.2.log"));
    expect(verify(dir).problem).toMatchObject({ kind: "missing", file: "audit.3.log" });
  });

  it("reports the first record as altered, hinting at the key, when the key is wrong", () => {
    const dir = trail();
    const result = verifyAuditTrail(dir, keyBytes("another-key-0123456789"));
    expect(result.problem).toMatchObject({ kind: "altered", file: "audit.1.log", line: 1 });
    expect(result.problem!.message).toMatch(/key/);
  });

  it("reports an empty directory", () => {
    const tmp = tempDir("palisade-verify-");
    dirs.push(tmp);
    expect(verify(tmp.path).problem).toMatchObject({ kind: "missing" });
  });
});

describe("palisade-audit verify", () => {
  const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ["--import", "tsx", "--conditions=@palisade/source", cli, ...args], {
      encoding: "utf8",
      env: { ...process.env, AUDIT_HMAC_KEY: "", ...env },
    });

  it("prints OK and exits 0 on an intact trail, with the key from --key-file", () => {
    const dir = trail(12);
    const keyFile = join(dir, "..", `${dir.split("/").at(-1)}.key`);
    writeFileSync(keyFile, `${KEY}\n`);
    try {
      const result = run(["verify", dir, "--key-file", keyFile]);
      const expected = verify(dir);
      expect(result.stdout).toBe(
        `OK: ${expected.records} records in ${expected.files.length} file(s), seq 1..${expected.lastSeq}\n`,
      );
      expect(result.status).toBe(0);
    } finally {
      rmSync(keyFile);
    }
  });

  it("prints the first problem and exits 1, with the key from AUDIT_HMAC_KEY", () => {
    const dir = trail(12);
    const content = lines(dir, "audit.1.log");
    content.splice(2, 1);
    rewrite(dir, "audit.1.log", content);
    const result = run(["verify", dir], { AUDIT_HMAC_KEY: KEY });
    expect(result.stdout).toMatch(/^FAIL \(removed\): audit\.1\.log:3 has seq 4 where seq 3 was expected/);
    expect(result.status).toBe(1);
  });

  it("exits 2 without a key or a directory", () => {
    expect(run(["verify", "/nonexistent"]).status).toBe(2);
    expect(run(["verify"], { AUDIT_HMAC_KEY: KEY }).status).toBe(2);
    expect(run(["frobnicate"]).status).toBe(2);
  });

  it("prints JSON with --json", () => {
    const dir = trail(3);
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "--conditions=@palisade/source", cli, "verify", dir, "--json"],
      {
        encoding: "utf8",
        env: { ...process.env, AUDIT_HMAC_KEY: KEY },
      },
    );
    expect(JSON.parse(out)).toMatchObject({ ok: true, records: 4 });
  });
});
