import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { tempDir } from "@palisade/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { auditLog } from "./audit-log.js";
import { TRANSPORTS, type Transport } from "./options.js";
import { KEY } from "./test-helpers.js";

const dirs: { cleanup(): void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

const appFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /^app\.\d+\.log$/.test(name))
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));

// A progress probe while a worker writes and prunes: a file listed a moment ago may be gone.
const sizeOf = (path: string) => {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
};
const totalSize = (dir: string) => appFiles(dir).reduce((sum, name) => sum + sizeOf(join(dir, name)), 0);

async function writeLines(dir: string, count: number, from: number, transport: Transport) {
  const log = auditLog({
    dir,
    transport,
    level: "info",
    rotation: { maxSize: 2048, maxFiles: 4 },
    audit: { hmacKey: KEY },
  });
  for (let i = from; i < from + count; i++) {
    const before = totalSize(dir);
    log.logger.info({ n: i, pad: "p".repeat(150) }, "line");
    if (transport === "main") {
      // Lines are written in batches of maxSize / 4 bytes; leave time for each batch's write.
      await sleep(5);
      continue;
    }
    // pino-roll rotates between the worker's writes and a burst lands in one write, so wait
    // for each line to reach the disk: one write per line makes the file sizes predictable.
    for (let waited = 0; totalSize(dir) === before && waited < 2000; waited += 2) await sleep(2);
  }
  await log.close();
}

describe.each(TRANSPORTS)('auditLog() application log rotation with transport "%s"', (transport) => {
  it("rotates app.log at the size limit and keeps maxFiles files", async () => {
    const tmp = tempDir("palisade-roll-");
    dirs.push(tmp);
    await writeLines(tmp.path, 60, 0, transport);
    const files = appFiles(tmp.path);
    expect(files).toHaveLength(4);
    for (const name of files.slice(0, -1)) expect(statSync(join(tmp.path, name)).size).toBeGreaterThanOrEqual(2048);
    const last = readFileSync(join(tmp.path, files.at(-1)!), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(last.at(-1)).toMatchObject({ n: 59, category: "application", msg: "line" });
  });

  it("keeps counting (and pruning) existing files after a restart", async () => {
    const tmp = tempDir("palisade-roll-");
    dirs.push(tmp);
    await writeLines(tmp.path, 30, 0, transport);
    const before = appFiles(tmp.path);
    await writeLines(tmp.path, 30, 30, transport);
    const after = appFiles(tmp.path);
    const highest = (names: string[]) => Number(names.at(-1)!.split(".")[1]);
    expect(highest(after)).toBeGreaterThan(highest(before));
    const lines = after.flatMap((name) =>
      readFileSync(join(tmp.path, name), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line).n as number),
    );
    expect(lines.at(-1)).toBe(59);
    expect(lines).toEqual(lines.map((_n, i) => 60 - lines.length + i));
    // Retention counts the files of the previous process too.
    expect(after).toHaveLength(4);
  });
});

describe("auditLog() main-thread application log", () => {
  it("writes a lone line within about a second, without waiting for a batch or close()", async () => {
    const tmp = tempDir("palisade-roll-");
    dirs.push(tmp);
    const log = auditLog({ dir: tmp.path, level: "info", audit: { hmacKey: KEY } });
    try {
      log.logger.info({ n: 1 }, "alone");
      let text = "";
      for (let waited = 0; !text.includes('"alone"') && waited < 5000; waited += 50) {
        await sleep(50);
        text = appFiles(tmp.path)
          .map((name) => readFileSync(join(tmp.path, name), "utf8"))
          .join("");
      }
      expect(JSON.parse(text.trim().split("\n").at(-1)!)).toMatchObject({ n: 1, msg: "alone" });
    } finally {
      await log.close();
    }
  });
});
