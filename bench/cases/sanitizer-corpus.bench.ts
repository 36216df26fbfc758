import { BOOKING_BENIGN } from "../../packages/input-sanitizer/src/fixtures/booking-benign.js";
import { CORPUS_DIR, corpusRecords } from "../../packages/input-sanitizer/src/fixtures/corpus.js";
import { inspect } from "../../packages/input-sanitizer/src/index.js";
import { defineBench } from "../harness.js";

// Detection and false-positive rates of inspect() on ../shared/corpus (see its README), by
// file, kind and CRS paranoia level, at each paranoia level; plus the package's own
// booking-platform benign fixture. Set SANITIZER_CORPUS to point elsewhere.

// Kinds whose attack lines this package targets; the corpus's other kinds map onto ours.
const KIND_MAP: Record<string, string> = {
  sqli: "sqli",
  xss: "xss",
  "path-traversal": "path-traversal",
  lfi: "path-traversal",
  "restricted-file": "path-traversal",
  "command-injection": "command-injection",
  nosql: "nosql",
  "prototype-pollution": "prototype-pollution",
  "crlf-injection": "crlf-injection",
  "http-smuggling": "crlf-injection",
  ssti: "ssti",
  "ldap-injection": "ldap-injection",
  "php-injection": "code-injection",
  "java-injection": "code-injection",
  "nodejs-injection": "code-injection",
};

const pct = (hit: number, total: number) => (total === 0 ? "-" : `${((100 * hit) / total).toFixed(1)}%`);

function keyLocation(location: string): boolean {
  return location.endsWith("-name") || location === "cookie-name";
}

export default defineBench({
  kind: "script",
  description: "inspect() detection and false-positive rates on the shared labelled corpus",
  async run() {
    const lines = corpusRecords();
    if (lines.length === 0) throw new Error(`no corpus in ${CORPUS_DIR}; set SANITIZER_CORPUS`);
    const report: Record<string, unknown> = {};
    for (const level of [1, 2, 3, 4] as const) {
      const table = new Map<string, { hit: number; kindHit: number; total: number }>();
      const bump = (key: string, detected: boolean, right: boolean) => {
        const row = table.get(key) ?? { hit: 0, kindHit: 0, total: 0 };
        row.total++;
        if (detected) row.hit++;
        if (right) row.kindHit++;
        table.set(key, row);
      };
      const started = performance.now();
      for (const line of lines) {
        const findings = inspect(line.input, { paranoiaLevel: level, key: keyLocation(line.location) });
        const detected = findings.length > 0;
        if (line.label === "benign") {
          bump(`benign ${line.file}`, detected, detected);
          bump("benign all", detected, detected);
          continue;
        }
        const mapped = KIND_MAP[line.kind!];
        const right = mapped !== undefined && findings.some((f) => f.kind === mapped);
        bump(`${line.file} ${line.kind}`, detected, right);
        if (line.file === "crs") bump(`crs ${line.kind} PL${line.paranoia_level}`, detected, right);
        if (["path-traversal", "command-injection", "nosql"].includes(line.kind!))
          bump(`all ${line.kind}`, detected, right);
      }
      const booking = BOOKING_BENIGN.filter((text) => inspect(text, { paranoiaLevel: level }).length > 0);
      const elapsed = performance.now() - started;
      console.log(`\nparanoiaLevel ${level} (${lines.length} lines in ${elapsed.toFixed(0)} ms)`);
      console.log("  subset                                   detected (any kind)  detected as its kind");
      const rows: Record<string, string> = {};
      for (const [key, row] of [...table.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const any = `${row.hit}/${row.total} (${pct(row.hit, row.total)})`;
        const right = key.startsWith("benign") ? "" : `${row.kindHit}/${row.total} (${pct(row.kindHit, row.total)})`;
        console.log(`  ${key.padEnd(40)} ${any.padEnd(20)} ${right}`);
        rows[key] = key.startsWith("benign") ? any : `${any}; as kind ${right}`;
      }
      console.log(`  booking benign fixture flagged: ${booking.length}/${BOOKING_BENIGN.length}`);
      for (const text of booking.slice(0, 5)) console.log(`    ${JSON.stringify(text)}`);
      rows["booking benign"] = `${booking.length}/${BOOKING_BENIGN.length}`;
      report[`PL${level}`] = rows;
    }
    return report;
  },
});
