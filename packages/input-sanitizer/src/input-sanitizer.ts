import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  clientIp,
  compileTrust,
  consoleLogger,
  emitSecurityEvent,
  isLogger,
  onResponseDone,
  optionChecks,
  palisadeLocals,
  sendProblem,
  warnOnce,
} from "@palisade/core";
import type { RequestHandler } from "express";
import {
  type AllowEntry,
  DEFAULTS,
  type Finding,
  type InputSanitizerOptions,
  KINDS,
  type Kind,
  MODES,
  PARANOIA_LEVELS,
} from "./options.js";
import { compileRequest, inspectRequestWith } from "./request.js";

/** What the middleware leaves on `res.locals.palisade.inputSanitizer`. */
export interface InputSanitizerLocals {
  /** Findings after the allowlist. */
  findings: readonly Finding[];
  /** Set when something was found or a cap was hit: quote it to find the audit-log entry. */
  incidentId?: string;
  /** Whether the request was refused. */
  blocked: boolean;
}

declare module "@palisade/core" {
  interface PalisadeLocals {
    inputSanitizer?: InputSanitizerLocals;
  }
}

const OPTION_KEYS = [
  "mode",
  "paranoiaLevel",
  "kinds",
  "sources",
  "headers",
  "allow",
  "fields",
  "maxDepth",
  "maxFields",
  "maxBytes",
  "maxFieldBytes",
  "onFinding",
  "detectAttackTools",
  "burst",
  "logger",
  "trustProxy",
] as const;

const SOURCE = "@palisade/input-sanitizer";
const ATTACK_TOOLS =
  /\b(?:sqlmap|nikto|wapiti|nmap|masscan|zgrab|acunetix|nessus|openvas|w3af|dirbuster|gobuster|feroxbuster|ffuf|wfuzz|hydra|nuclei|whatweb|arachni|skipfish|havij|netsparker|appscan|webinspect|commix|jaeles|xsstrike|dalfox|fimap|sqlninja|bsqlbf|grabber|paros|webscarab|burpcollaborator|zmeu|morfeus|jorgee|absinthe|pangolin|nstalker|vega\/|openvas|zap\/|owasp zap)\b/i;
const TOOL_NAME = /[a-z]+/i;
const AGENT_CACHE_SIZE = 256;

interface CompiledAllow {
  route?: { prefix: boolean; value: string };
  field?: { prefix: boolean; value: string };
  kinds?: ReadonlySet<Kind>;
}

function pattern(value: string): { prefix: boolean; value: string } {
  return value.endsWith("*") ? { prefix: true, value: value.slice(0, -1) } : { prefix: false, value };
}
const matches = (p: { prefix: boolean; value: string } | undefined, text: string) =>
  p === undefined || (p.prefix ? text.startsWith(p.value) : text === p.value);

/** A small fixed-size window counter per client, with the oldest clients evicted first. */
function burstCounter(max: number, windowMs: number, capacity = 10_000) {
  const clients = new Map<string, { start: number; count: number; reported: boolean }>();
  return function hit(client: string, now: number): boolean {
    let entry = clients.get(client);
    if (!entry || now - entry.start > windowMs) {
      clients.delete(client);
      if (clients.size >= capacity) clients.delete(clients.keys().next().value!);
      entry = { start: now, count: 0, reported: false };
      clients.set(client, entry);
    }
    entry.count++;
    if (entry.count > max && !entry.reported) {
      entry.reported = true;
      return true;
    }
    return false;
  };
}

const eventName = (kind: Kind) => `malicious_${kind.replace(/-/g, "_")}` as const;

/**
 * Detects injection attacks (SQLi, XSS, path traversal, command and NoSQL injection,
 * prototype pollution, CRLF, SSTI, LDAP, XXE) in query, body, params, cookies, selected
 * headers and the path, keys as well as values. `block` mode answers 400 problem+json with
 * an incident id; `report` mode lets the request continue. It never writes to `req`.
 *
 * @example
 * import express from "express";
 * import { inputSanitizer } from "@palisade/input-sanitizer";
 * const app = express();
 * app.use(express.json());
 * app.use("/api", inputSanitizer({ fields: { "body.email": "email" } }));
 */
export function inputSanitizer(options: Readonly<InputSanitizerOptions> = {}): RequestHandler {
  const check = optionChecks("inputSanitizer");
  check.knownKeys(options, OPTION_KEYS);
  const mode = check.oneOf("mode", options.mode, MODES, DEFAULTS.mode);
  check.oneOf("paranoiaLevel", options.paranoiaLevel, PARANOIA_LEVELS, DEFAULTS.paranoiaLevel);
  const compiled = compileRequest("inputSanitizer", {
    paranoiaLevel: options.paranoiaLevel,
    kinds: options.kinds,
    sources: options.sources,
    headers: options.headers,
    fields: options.fields,
    maxDepth: options.maxDepth,
    maxFields: options.maxFields,
    maxBytes: options.maxBytes,
    maxFieldBytes: options.maxFieldBytes,
  });
  const onFinding = check.func<NonNullable<InputSanitizerOptions["onFinding"]>>("onFinding", options.onFinding);
  const detectAttackTools = check.boolean("detectAttackTools", options.detectAttackTools, true);
  if (options.logger !== undefined && !isLogger(options.logger))
    check.fail("logger", "a logger with a warn() method", options.logger);
  const warn = warnOnce(options.logger ?? consoleLogger, "inputSanitizer");
  const trust = compileTrust([...check.stringArray("trustProxy", options.trustProxy, ["loopback"])]);

  let burst:
    | { findings: (client: string, now: number) => boolean; notFound: (client: string, now: number) => boolean }
    | undefined;
  if (options.burst !== false) {
    const b = check.object("burst", options.burst, ["max", "windowMs"]) ?? {};
    const max = check.number("burst.max", b.max, DEFAULTS.burstMax, { min: 1, integer: true });
    const windowMs = check.number("burst.windowMs", b.windowMs, DEFAULTS.burstWindowMs, { min: 1, integer: true });
    burst = { findings: burstCounter(max, windowMs), notFound: burstCounter(max, windowMs) };
  }

  if (options.allow !== undefined && !Array.isArray(options.allow))
    check.fail("allow", "an array of allow entries", options.allow);
  const allow: CompiledAllow[] = (options.allow ?? []).map((entry: AllowEntry, i: number) => {
    check.object(`allow[${i}]`, entry, ["route", "field", "kinds"]);
    const route = check.string(`allow[${i}].route`, entry.route, "") || undefined;
    const field = check.string(`allow[${i}].field`, entry.field, "") || undefined;
    const kinds = entry.kinds === undefined ? undefined : check.stringArray(`allow[${i}].kinds`, entry.kinds, []);
    for (const kind of kinds ?? []) check.oneOf(`allow[${i}].kinds`, kind, KINDS, "sqli");
    if (route === undefined && field === undefined && kinds === undefined) {
      check.fail(`allow[${i}]`, "an entry with at least one of `route`, `field`, `kinds`", entry);
    }
    return {
      route: route === undefined ? undefined : pattern(route),
      field: field === undefined ? undefined : pattern(field),
      kinds: kinds === undefined ? undefined : new Set(kinds as Kind[]),
    };
  });
  const allowed = (finding: Finding, path: string) =>
    allow.some(
      (entry) =>
        matches(entry.route, path) &&
        matches(entry.field, finding.field ?? "") &&
        (entry.kinds === undefined || entry.kinds.has(finding.kind)),
    );

  // User-Agent strings repeat from request to request: remember the verdict for recent ones.
  const agents = new Map<string, RegExpExecArray | null>();
  const attackTool = (agent: string) => {
    let tool = agents.get(agent);
    if (tool === undefined) {
      tool = ATTACK_TOOLS.exec(agent.slice(0, 512));
      if (agents.size >= AGENT_CACHE_SIZE) agents.delete(agents.keys().next().value!);
      agents.set(agent, tool);
    }
    return tool;
  };

  const refuse = (
    res: ServerResponse,
    status: number,
    incidentId: string,
    detail: string,
    extra: Record<string, unknown> = {},
  ) => {
    sendProblem(res, status, { detail, instance: `urn:uuid:${incidentId}`, incidentId, ...extra });
  };

  // One hook function per instance, not a closure per request; run from core's shared close
  // listener. core's clientIp() resolves the address once per request, whoever asks.
  const notFound = burst?.notFound;
  function countNotFound(res: ServerResponse) {
    if (res.statusCode !== 404 || !res.writableFinished) return;
    const client = clientIp(res.req, trust) || "unknown";
    if (notFound!(client, Date.now())) {
      emitSecurityEvent(res.req, {
        name: "malicious_excess_404",
        source: SOURCE,
        description: "One client received many 404 responses in a short time.",
        detail: { client },
      });
    }
  }

  return function inputSanitizerMiddleware(req, res, next) {
    const request = req as unknown as IncomingMessage;
    const response = res as unknown as ServerResponse;
    const locals: InputSanitizerLocals = { findings: [], blocked: false };
    palisadeLocals(response).inputSanitizer = locals;
    if (burst) onResponseDone(request, response, countNotFound);

    if (detectAttackTools) {
      const agent = req.headers["user-agent"];
      const tool = typeof agent === "string" ? attackTool(agent) : null;
      if (tool) {
        const incidentId = randomUUID();
        locals.incidentId = incidentId;
        emitSecurityEvent(request, {
          name: "malicious_attack_tool",
          source: SOURCE,
          description: "The User-Agent names an attack tool.",
          detail: { tool: TOOL_NAME.exec(tool[0])?.[0]?.toLowerCase(), incidentId, mode },
        });
        if (mode === "block") {
          locals.blocked = true;
          refuse(response, 400, incidentId, "The request was refused.");
          return;
        }
      }
    }

    let inspection: ReturnType<typeof inspectRequestWith>;
    try {
      inspection = inspectRequestWith(request, compiled);
    } catch (error) {
      next(error);
      return;
    }
    let findings = inspection.findings;
    if (findings.length > 0 && allow.length > 0) {
      const url = req.originalUrl ?? req.url ?? "/";
      const path = url.split("?", 1)[0]!;
      findings = findings.filter((finding) => !allowed(finding, path));
    }
    locals.findings = findings;
    const problems = findings.length > 0 || inspection.exceeded !== undefined || inspection.hintFailures.length > 0;
    if (!problems) {
      next();
      return;
    }
    const incidentId = randomUUID();
    locals.incidentId = incidentId;

    if (inspection.exceeded) {
      emitSecurityEvent(request, {
        name: "input_validation_fail",
        source: SOURCE,
        description: `The request exceeded the input ${inspection.exceeded} limit.`,
        detail: { limit: inspection.exceeded, incidentId, mode },
      });
      warn(
        "WRN_PALISADE_INPUT_LIMIT",
        `a request exceeded the ${inspection.exceeded} limit; raise it if legitimate requests are this large`,
      );
    }
    for (const failure of inspection.hintFailures) {
      emitSecurityEvent(request, {
        name: "input_validation_fail",
        source: SOURCE,
        description: `A field failed its "${failure.hint}" check.`,
        detail: { field: failure.field, hint: failure.hint, incidentId, mode },
      });
    }
    for (const finding of findings.slice(0, 20)) {
      emitSecurityEvent(request, {
        name: eventName(finding.kind),
        source: SOURCE,
        description: `Input matched the ${finding.kind} rule ${finding.rule}.`,
        detail: {
          kind: finding.kind,
          rule: finding.rule,
          paranoiaLevel: finding.paranoiaLevel,
          field: finding.field,
          decodings: finding.decodings,
          incidentId,
          mode,
        },
      });
    }
    if (findings.length > 0) {
      if (onFinding) {
        try {
          onFinding(findings, request);
        } catch (error) {
          warn("WRN_PALISADE_ON_FINDING_THREW", "the onFinding hook threw; the error was ignored", {
            error: String(error),
          });
        }
      }
      const client = burst ? clientIp(request, trust) || "unknown" : "";
      if (burst?.findings(client, Date.now())) {
        emitSecurityEvent(request, {
          name: "malicious_attack_tool",
          source: SOURCE,
          description: "One client sent many malicious inputs in a short time.",
          detail: { client, reason: "finding-burst" },
        });
      }
    }
    if (mode === "report") {
      next();
      return;
    }
    locals.blocked = true;
    if (inspection.exceeded === "depth") refuse(response, 400, incidentId, "The request input is nested too deeply.");
    else if (inspection.exceeded) refuse(response, 413, incidentId, "The request input is too large to inspect.");
    else if (findings.length === 0) {
      // Only positive checks failed: name the fields and the expected format (the client's own
      // field names, never its values), so a form can point at what to fix.
      const invalidFields = inspection.hintFailures.map((failure) => ({
        field: failure.field,
        expected: failure.hint,
      }));
      const names = invalidFields.map((failure) => `\`${failure.field}\` (${failure.expected})`).join(", ");
      refuse(response, 400, incidentId, `Invalid format: ${names}.`, { invalidFields });
    } else refuse(response, 400, incidentId, "The request was refused because its input looks unsafe.");
  };
}
