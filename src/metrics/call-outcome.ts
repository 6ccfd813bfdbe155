import type { CallOutcome } from "../runtime/call-pipeline.js";

/** How a call ended, coarsely: the `outcome` label of metrics and the event a call ends with. */
export type OutcomeKind = "success" | "failure" | "denied" | "rate_limited";

/**
 * Classifies an ended call: denied for identity refusals (unauthenticated, permission_denied),
 * rate_limited for a rate or concurrency limit hit before the handler ran, success for a
 * non-error result, failure for everything else (is_error results included).
 */
export function outcomeKind(outcome: CallOutcome): OutcomeKind {
  switch (outcome.code) {
    case "ok":
      return "success";
    case "unauthenticated":
    case "permission_denied":
      return "denied";
    case "resource_exhausted":
      // After the handler started, resource_exhausted is a stream the client read too slowly.
      return outcome.executed ? "failure" : "rate_limited";
    default:
      return "failure";
  }
}
