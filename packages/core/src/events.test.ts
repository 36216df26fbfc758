import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { attachSecurityEventSink, type DeliveredSecurityEvent, emitSecurityEvent } from "./events.js";

const request = () => new IncomingMessage(new Socket());

describe("emitSecurityEvent()", () => {
  it("does nothing and returns 0 when no sink is attached", () => {
    expect(emitSecurityEvent(request(), { name: "authz_fail" })).toBe(0);
  });

  it("delivers to every attached sink with level and time filled in", () => {
    const req = request();
    const received: DeliveredSecurityEvent[] = [];
    attachSecurityEventSink(req, (event) => received.push(event));
    attachSecurityEventSink(req, (event) => received.push(event));
    expect(emitSecurityEvent(req, { name: "malicious_csrf", detail: { reason: "origin" } })).toBe(2);
    expect(received).toHaveLength(2);
    expect(received[0]).toMatchObject({ name: "malicious_csrf", level: "WARN", detail: { reason: "origin" } });
    expect(Date.parse(received[0]!.time)).not.toBeNaN();
  });

  it.each([
    ["authn_login_success", "INFO"],
    ["authn_login_fail", "WARN"],
    ["excess_rate_limit_exceeded", "WARN"],
    ["input_validation_fail", "WARN"],
    ["sys_startup", "INFO"],
  ] as const)("gives %s the default level %s", (name, level) => {
    const req = request();
    let seen: string | undefined;
    attachSecurityEventSink(req, (event) => {
      seen = event.level;
    });
    emitSecurityEvent(req, { name });
    expect(seen).toBe(level);
  });

  it("keeps an explicit level", () => {
    const req = request();
    let seen: string | undefined;
    attachSecurityEventSink(req, (event) => {
      seen = event.level;
    });
    emitSecurityEvent(req, { name: "authz_fail", level: "CRITICAL" });
    expect(seen).toBe("CRITICAL");
  });

  it("survives a throwing sink and still reaches the others", () => {
    const req = request();
    const names: string[] = [];
    attachSecurityEventSink(req, () => {
      throw new Error("sink down");
    });
    attachSecurityEventSink(req, (event) => names.push(event.name));
    expect(emitSecurityEvent(req, { name: "authz_fail" })).toBe(1);
    expect(names).toEqual(["authz_fail"]);
  });

  it("keeps the sinks off the request's enumerable properties", () => {
    const req = request();
    const before = Object.keys(req);
    attachSecurityEventSink(req, () => {});
    expect(Object.keys(req)).toEqual(before);
  });
});
