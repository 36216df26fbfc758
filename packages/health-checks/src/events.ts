import type { DeliveredSecurityEvent, PalisadeLogger, SecurityEvent } from "@palisade/core";
import type { EventSink } from "./options.js";

export const SOURCE = "@palisade/health-checks";

/**
 * Events raised outside a request (a background check, a signal) have no request to carry
 * them to core's per-request sinks, so they go to `onEvent`, or else to the logger.
 */
export function eventDelivery(onEvent: EventSink | undefined, logger: PalisadeLogger) {
  return function deliver(event: SecurityEvent & Required<Pick<SecurityEvent, "level">>): void {
    const delivered: DeliveredSecurityEvent = { source: SOURCE, ...event, time: new Date().toISOString() };
    try {
      if (onEvent) onEvent(delivered);
      else if (delivered.level === "INFO")
        (logger.info ?? logger.warn).call(logger, { event: delivered }, delivered.description ?? delivered.name);
      else
        (delivered.level === "CRITICAL" && logger.error ? logger.error : logger.warn).call(
          logger,
          { event: delivered },
          delivered.description ?? delivered.name,
        );
    } catch {
      // An event sink must not break the check loop or the shutdown.
    }
  };
}

export type Deliver = ReturnType<typeof eventDelivery>;
