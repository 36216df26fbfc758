import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { tempDir } from "@palisade/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { keyBytes } from "./chain.js";
import { auditFiles, auditRecords, KEY } from "./test-helpers.js";
import { verifyAuditTrail } from "./verify.js";
import { ChainWriter, type ChainWriterOptions } from "./writer.js";

const dirs: { cleanup(): void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function newDir() {
  const dir = tempDir("palisade-writer-");
  dirs.push(dir);
  return dir.path;
}

function open(dir: string, options: Partial<ChainWriterOptions> = {}) {
  const warnings: string[] = [];
  const writer = new ChainWriter({
    dir,
    file: "audit.log",
    maxSize: 1024,
    maxFiles: 0,
    key: keyBytes(KEY),
    durable: true,
    fsync: false,
    onWarning: (code) => warnings.push(code),
    ...options,
  });
  return { writer, warnings };
}

const event = (i: number) =>
  `${JSON.stringify({ event: "booking_created", detail: { bookingId: i, pad: "x".repeat(100) } })}\n`;

describe("ChainWriter", () => {
  it("starts a new trail with a seal naming the genesis hmac", () => {
    const dir = newDir();
    const { writer } = open(dir);
    writer.write(event(1));
    writer.close();
    const records = auditRecords(dir);
    expect(records[0]).toMatchObject({ seq: 1, event: "audit_seal", prevFile: null, prevHmac: "0".repeat(64) });
    expect(records[1]).toMatchObject({ seq: 2, event: "booking_created", detail: { bookingId: 1 } });
  });

  it("rotates at the size limit, each file starting with a seal of the previous file's last hmac", () => {
    const dir = newDir();
    const { writer } = open(dir);
    for (let i = 1; i <= 30; i++) writer.write(event(i));
    writer.close();
    const files = auditFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const [index, name] of files.entries()) {
      const lines = readFileSync(join(dir, name), "utf8").trim().split("\n");
      const seal = JSON.parse(lines[0]!);
      expect(seal.event).toBe("audit_seal");
      if (index > 0) {
        const previous = readFileSync(join(dir, files[index - 1]!), "utf8")
          .trim()
          .split("\n");
        expect(seal.prevFile).toBe(files[index - 1]);
        expect(seal.prevHmac).toBe(JSON.parse(previous[previous.length - 1]!).hmac);
      }
      if (index < files.length - 1) {
        // Full files reach the limit and stop at the first record that crosses it.
        const size = statSync(join(dir, name)).size;
        expect(size).toBeGreaterThanOrEqual(1024);
        expect(size - Buffer.byteLength(`${lines[lines.length - 1]}\n`)).toBeLessThan(1024);
      }
    }
    expect(verifyAuditTrail(dir, keyBytes(KEY))).toMatchObject({ ok: true, firstSeq: 1 });
  });

  it("keeps maxFiles files and still verifies, noting where the trail starts", () => {
    const dir = newDir();
    const { writer } = open(dir, { maxFiles: 3 });
    for (let i = 1; i <= 60; i++) writer.write(event(i));
    writer.close();
    const files = auditFiles(dir);
    expect(files).toHaveLength(3);
    expect(files[0]).not.toBe("audit.1.log");
    const result = verifyAuditTrail(dir, keyBytes(KEY));
    expect(result.ok).toBe(true);
    expect(result.notes[0]).toMatch(/^the trail starts at seq \d+ in audit\.\d+\.log/);
  });

  it("continues the chain, the numbering and the size count after a restart", () => {
    const dir = newDir();
    const first = open(dir);
    for (let i = 1; i <= 12; i++) first.writer.write(event(i));
    first.writer.close();
    const filesBefore = auditFiles(dir);
    const lastBefore = auditRecords(dir).at(-1)!;

    const second = open(dir);
    expect(second.writer.path).toBe(join(dir, filesBefore.at(-1)!));
    second.writer.write(event(13));
    second.writer.close();
    const records = auditRecords(dir);
    // The next seq, after a new file's seal when the old file was already full.
    expect(records.at(-1)).toMatchObject({ detail: { bookingId: 13 } });
    expect([1, 2]).toContain((records.at(-1)!.seq as number) - (lastBefore.seq as number));
    expect(records.map((record) => record.seq)).toEqual(records.map((_record, i) => i + 1));

    const third = open(dir);
    for (let i = 14; i <= 30; i++) third.writer.write(event(i));
    third.writer.close();
    expect(auditFiles(dir).length).toBeGreaterThan(filesBefore.length);
    expect(auditRecords(dir).filter((record) => record.event === "audit_seal")).toHaveLength(auditFiles(dir).length);
    expect(verifyAuditTrail(dir, keyBytes(KEY))).toMatchObject({ ok: true, records: auditRecords(dir).length });
  });

  it("leaves a torn last line as evidence, continues in a new file and says so in its seal", () => {
    const dir = newDir();
    const first = open(dir);
    first.writer.write(event(1));
    first.writer.close();
    appendFileSync(join(dir, "audit.1.log"), '{"seq":3,"event":"booking_cr');
    const second = open(dir);
    second.writer.write(event(2));
    second.writer.close();
    expect(second.warnings).toEqual(["WRN_PALISADE_AUDIT_TORN_TAIL"]);
    expect(auditFiles(dir)).toEqual(["audit.1.log", "audit.2.log"]);
    const seal = JSON.parse(readFileSync(join(dir, "audit.2.log"), "utf8").split("\n")[0]!);
    expect(seal).toMatchObject({ event: "audit_seal", seq: 3, prevFile: "audit.1.log" });
    expect(seal.reason).toMatch(/incomplete/);
    const result = verifyAuditTrail(dir, keyBytes(KEY));
    expect(result.ok).toBe(true);
    expect(result.notes).toEqual(["audit.1.log ends in an incomplete line, acknowledged by the seal of audit.2.log"]);
  });

  it("reuses an empty active file left by a crash during rotation", () => {
    const dir = newDir();
    const first = open(dir);
    first.writer.write(event(1));
    first.writer.close();
    writeFileSync(join(dir, "audit.2.log"), "");
    const second = open(dir);
    second.writer.write(event(2));
    second.writer.close();
    expect(auditFiles(dir)).toEqual(["audit.1.log", "audit.2.log"]);
    expect(verifyAuditTrail(dir, keyBytes(KEY)).ok).toBe(true);
  });

  it("batches records until the next turn of the event loop when not durable", async () => {
    const dir = newDir();
    const { writer } = open(dir, { durable: false });
    const path = writer.path;
    const sealOnly = statSync(path).size;
    writer.write(event(1));
    writer.write(event(2));
    expect(statSync(path).size).toBe(sealOnly);
    await tick();
    expect(auditRecords(dir).map((record) => record.seq)).toEqual([1, 2, 3]);
    writer.close();
  });

  it("writes batched records when the process exits without closing", () => {
    const dir = newDir();
    const writer = new URL("./writer.ts", import.meta.url).pathname;
    const script = `import { ChainWriter } from ${JSON.stringify(writer)};
      const w = new ChainWriter({ dir: ${JSON.stringify(dir)}, file: "audit.log", maxSize: 1048576, maxFiles: 0,
        key: undefined, durable: false, fsync: false, onWarning() {} });
      w.write('{"event":"sys_shutdown"}\\n');
      process.exit(0);`;
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "--conditions=@palisade/source", "--input-type=module", "-e", script],
      {
        encoding: "utf8",
      },
    );
    expect(result.stderr).toBe("");
    expect(auditRecords(dir).map((record) => record.event)).toEqual(["audit_seal", "sys_shutdown"]);
  });

  it("writes records without hmac when it has no key", () => {
    const dir = newDir();
    const { writer } = open(dir, { key: undefined });
    writer.write(event(1));
    writer.close();
    expect(auditRecords(dir).map((record) => record.hmac)).toEqual([undefined, undefined]);
  });
});
