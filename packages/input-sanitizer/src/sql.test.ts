import { describe, expect, it } from "vitest";
import { inspect } from "./inspect.js";

const sqlRules = (text: string, paranoiaLevel: 1 | 2 = 2) =>
  inspect(text, { paranoiaLevel })
    .filter((f) => f.kind === "sqli")
    .map((f) => f.rule);

describe("SQL fragments", () => {
  it.each([
    ["sqli.system-procedure", "xp_dirtree"],
    ["sqli.system-procedure", "1; exec sp_executesql @q"],
    ["sqli.system-procedure", "select * from openrowset('x')"],
    ["sqli.schema-object", "xp_cmdshell"],
    ["sqli.into-file", "x into outfile '/var/www/x.php'"],
  ])("reports %s at level 1 for %j", (rule, text) => {
    expect(sqlRules(text, 1)).toContain(rule);
  });

  it.each([
    ["sqli.open-call", "x' or date("],
    ["sqli.open-call", "length||("],
    ["sqli.open-call", "Password>$("],
    ["sqli.escaped-quote-break", "\\'or'1"],
    ["sqli.escaped-quote-break", 'x\\" and 1'],
    ["sqli.operator-only", "<=>"],
    ["sqli.operator-only", "RLIKE"],
    ["sqli.operator-only", "is not null"],
    ["sqli.in-list", "in (2147483647,-1)"],
    ["sqli.clause-fragment", "FROM users WHERE name='admin'"],
    ["sqli.clause-fragment", "from `db`.`tbl` limit"],
    ["sqli.clause-fragment", "from t group by c"],
    ["sqli.statement-tail", "pay=;drop"],
    ["sqli.statement-tail", "DROP sampletable;--"],
    ["sqli.variable-set", ";SET @OLD_SQL_MODE"],
    ["sqli.case-fragment", ") when 234 then"],
    ["sqli.comment-split", "UN/**/ION SEL/**/ECT 1"],
    ["sqli.comment-split", "DROP/*comment*/sampletable"],
    ["sqli.mixed-case-keyword", "ordeR by 1"],
    ["sqli.mixed-case-keyword", "1 uNiOn sElEcT 2"],
  ])("reports %s at level 2 for %j", (rule, text) => {
    expect(sqlRules(text)).toContain(rule);
  });

  it("keeps the fragment rules out of level 1", () => {
    expect(sqlRules("length||(", 1)).toEqual([]);
    expect(sqlRules("<=>", 1)).toEqual([]);
  });

  it.each([
    "Please book me in at the usual time (",
    "Call me (",
    "From London where it = raining",
    "from Paris having fun",
    "from the market limit 2 per person",
    "Drop it;",
    "I'll be there at 5:30; drop by",
    "Running late; update soon",
    "in (1,2) weeks",
    "Meeting in (about) 2 weeks",
    "ORder by phone",
    "Order by phone",
    "THe Union Jack",
    "a -> b",
    "when ready then call",
    "O\\'Reilly and friends",
    "cost /* approx */ 20",
    "set @john as the barber",
  ])("does not flag %j at level 2", (text) => {
    expect(sqlRules(text)).toEqual([]);
  });
});
