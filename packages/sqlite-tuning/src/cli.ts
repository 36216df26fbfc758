#!/usr/bin/env node
import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { adviseIndexes } from "./advisor.js";
import { applyIndexes } from "./apply.js";
import { sqliteCheck } from "./health.js";
import { splitStatements } from "./sql.js";
import { readPragmas, tuneSqlite } from "./sqlite-tuning.js";

const USAGE = `Usage: palisade-sqlite <command> <file> [options]

Commands:
  tune <file>                       apply the production pragma profile and print every pragma read back
  advise <file> [--queries q.sql]   print the indexes to add (a SQL script) and why, as comments
  apply <file> <indexes.sql>        create the indexes of a script (idempotent, one transaction, ANALYZE)
  status <file>                     pragmas, size, WAL, freelist and indexes

Options:
  --json                            print JSON instead of text
  --help                            show this help
`;

const PER_CONNECTION =
  "(only journal_mode is stored in the file; the other pragmas hold per connection: call tuneSqlite() on every open)";

class UsageError extends Error {}

function main(argv: string[]): Promise<number> | number {
  const json = argv.includes("--json");
  const args = argv.filter((arg) => arg !== "--json");
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    process.stdout.write(USAGE);
    return args.length === 0 ? 2 : 0;
  }
  const [command, file, ...rest] = args;
  if (!file) throw new UsageError(`${command} needs a database file`);
  const print = (value: unknown, text: string) =>
    process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text);
  switch (command) {
    case "tune": {
      const db = new Database(file, { fileMustExist: true });
      try {
        tuneSqlite(db);
        const pragmas = readPragmas(db);
        print(
          pragmas,
          `${Object.entries(pragmas)
            .map(([name, value]) => `${name} = ${value}\n`)
            .join("")}${PER_CONNECTION}\n`,
        );
      } finally {
        db.close();
      }
      return 0;
    }
    case "advise": {
      const at = rest.indexOf("--queries");
      let queries: string[] = [];
      if (at !== -1) {
        const path = rest[at + 1];
        if (!path) throw new UsageError("--queries needs a file");
        queries = splitStatements(readFileSync(path, "utf8"));
      } else if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      const db = new Database(file, { fileMustExist: true, readonly: true });
      try {
        const advice = adviseIndexes(db, { queries });
        const lines = [
          `-- palisade-sqlite advise ${file}: ${advice.findings.length} findings, ${advice.indexes.length} indexes`,
        ];
        for (const finding of advice.findings) {
          lines.push(`-- ${finding.kind}: ${finding.message}${finding.index ? ` -> ${finding.index}` : ""}`);
          if (finding.query) lines.push(`--   in: ${finding.query.replace(/\s+/g, " ")}`);
        }
        for (const index of advice.indexes) lines.push(`${index.sql};`);
        print(advice, `${lines.join("\n")}\n`);
      } finally {
        db.close();
      }
      return 0;
    }
    case "apply": {
      const script = rest[0];
      if (!script) throw new UsageError("apply needs an indexes.sql file");
      const db = new Database(file, { fileMustExist: true });
      try {
        const result = applyIndexes(db, readFileSync(script, "utf8"));
        const text = [
          ...result.created.map((index) => `created ${index.name} on ${index.table}`),
          ...result.existing.map((name) => `exists  ${name}`),
          ...(result.analyzed.length > 0 ? [`analyzed ${result.analyzed.join(", ")}`] : []),
        ];
        print(result, `${text.join("\n")}\n`);
      } finally {
        db.close();
      }
      return 0;
    }
    case "status":
      return status(file, print);
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

async function status(file: string, print: (value: unknown, text: string) => void): Promise<number> {
  const db = new Database(file, { fileMustExist: true, readonly: true });
  try {
    const health = await sqliteCheck(db, { logger: { warn() {} } })();
    const pragmas = readPragmas(db);
    const indexes = db
      .prepare(
        "SELECT name, tbl_name AS \"table\" FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY tbl_name, name",
      )
      .all() as { name: string; table: string }[];
    const lines = [
      `status: ${health.status}${health.output ? ` (${health.output})` : ""}`,
      `response: ${health.observedValue} ms`,
      `pages: ${health.pageCount} x ${health.pageSize} bytes, freelist ${health.freelistCount}`,
      `file: ${health.fileBytes} bytes, wal: ${health.walBytes} bytes`,
      ...Object.entries(pragmas).map(([name, value]) => `${name} = ${value}`),
      PER_CONNECTION,
      `indexes: ${indexes.length}`,
      ...indexes.map((index) => `  ${index.table}.${index.name}`),
    ];
    print({ health, pragmas, indexes }, `${lines.join("\n")}\n`);
    return health.status === "fail" ? 1 : 0;
  } finally {
    db.close();
  }
}

Promise.resolve()
  .then(() => main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`palisade-sqlite: ${error.message}\n\n${USAGE}`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`palisade-sqlite: ${(error as Error).message}\n`);
        process.exitCode = 1;
      }
    },
  );
