import { BOOKING_BENIGN } from "../../packages/input-sanitizer/src/fixtures/booking-benign.js";
import { CORPUS_DIR, corpusRecords } from "../../packages/input-sanitizer/src/fixtures/corpus.js";
import { inspect } from "../../packages/input-sanitizer/src/index.js";
import { defineBench } from "../harness.js";

// inspect() throughput on benign fields (one core, this process), and the worst case: 1 MB
// adversarial strings, each of which must be inspected in under 100 ms.

const MB = 1_048_576;

const adversarial: Record<string, string> = {
  quotes: "'".repeat(MB),
  "quote-or": "' or ".repeat(MB / 5),
  "angle brackets": "<".repeat(MB),
  tags: "<a ".repeat(MB / 3),
  "%25 runs": "%25".repeat(MB / 3),
  "nested comments": "/*".repeat(MB / 2),
  "dot-dot-slash": "../".repeat(MB / 3),
  parens: "(".repeat(MB),
  braces: "{{".repeat(MB / 2),
  entities: "&#x3c;".repeat(MB / 6),
  backslashes: "\\".repeat(MB),
  semicolons: "; ".repeat(MB / 2),
  "dollar keys": "$ne[".repeat(MB / 4),
  words: "select union from where ".repeat(MB / 24),
  "line breaks": "\r\n".repeat(MB / 2),
};

export default defineBench({
  kind: "script",
  description: "inspect(): benign fields per second, and 1 MB adversarial inputs under 100 ms each",
  async run() {
    const benign: string[] = [...BOOKING_BENIGN];
    const records = corpusRecords(["crs", "libinjection"]);
    if (records.length === 0) throw new Error(`no corpus in ${CORPUS_DIR}; set SANITIZER_CORPUS`);
    for (const record of records) if (record.label === "benign") benign.push(record.input);
    // Typical form fields: names, emails, dates, ids, plus the benign corpus.
    const fields = [...benign, "alice@example.com", "2026-12-24", "42", "Jane", "Doe", "true", "haircut-deluxe"];
    for (let i = 0; i < 2000; i++) inspect(fields[i % fields.length]!);
    let count = 0;
    const started = performance.now();
    while (performance.now() - started < 3000) {
      for (const field of fields) inspect(field);
      count += fields.length;
    }
    const fieldsPerSecond = Math.round(count / ((performance.now() - started) / 1000));
    console.log(`\n  benign fields/s (one core): ${fieldsPerSecond.toLocaleString("en")} (target 100,000)`);

    const worst: Record<string, number> = {};
    let slowest = 0;
    for (const [name, text] of Object.entries(adversarial)) {
      const t0 = performance.now();
      inspect(text, { maxLength: MB, paranoiaLevel: 4 });
      const ms = performance.now() - t0;
      worst[name] = Math.round(ms * 10) / 10;
      slowest = Math.max(slowest, ms);
      console.log(`  1 MB ${name.padEnd(16)} ${ms.toFixed(1)} ms${ms > 100 ? "  OVER 100 ms" : ""}`);
    }
    return {
      fieldsPerSecond,
      adversarialMs: worst,
      slowestMs: Math.round(slowest),
      targetMet: fieldsPerSecond >= 100_000 && slowest < 100,
    };
  },
});
