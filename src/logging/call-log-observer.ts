import type { Level, Logger } from "pino";
import type { CallObserver, CallOutcome, ObservedCall } from "../runtime/call-pipeline.js";
import { refusalReason } from "../runtime/refusal-reason.js";

/** Codes that are the server's trouble rather than the caller's: logged at error. */
const serverFaults = new Set(["internal", "unknown", "data_loss", "unimplemented"]);
/** Codes worth an operator's attention: refusals for identity or limits, timeouts, shutdown. */
const warnings = new Set(["unauthenticated", "permission_denied", "resource_exhausted", "deadline_exceeded", "unavailable"]);

/** The level of one call's log line. */
export function callLogLevel(code: string): Level {
  if (serverFaults.has(code)) return "error";
  if (warnings.has(code)) return "warn";
  return "info";
}

/** Caller-supplied text in a log line is bounded: a name must not turn into a megabyte of log. */
function bounded(text: string, max = 128): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Creates the observer that writes one line per call: request id, tool, version, caller id,
 * protocol, peer address, code and duration. Refusals (unauthenticated, permission_denied,
 * resource_exhausted) are warnings carrying the reason — this is the audit log of denials and
 * limit hits. Lines carry no arguments, results or headers, so never a credential, and name no
 * argument property of a tool the caller was not allowed (see refusalReason).
 */
export function createCallLogObserver(logger: Logger): CallObserver {
  return {
    callEnded(call: ObservedCall, outcome: CallOutcome) {
      const level = callLogLevel(outcome.code);
      if (!logger.isLevelEnabled(level)) return;
      const line: Record<string, unknown> = {
        requestId: call.requestId,
        tool: bounded(call.toolName),
        version: call.toolVersion,
        callerId: call.principal?.id,
        protocol: call.caller.protocol,
        peer: call.caller.peer,
        code: outcome.code,
        durationMs: Math.round(outcome.durationMs * 1000) / 1000,
      };
      if (outcome.error !== undefined) line.reason = bounded(refusalReason(call, outcome.error), 500);
      logger[level](line, "tool call");
    },
  };
}
