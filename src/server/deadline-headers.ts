import type { IncomingHttpHeaders } from "node:http";

/** The longest delay a Node timer holds (2^31-1 ms, about 24.8 days); a longer one fires at once. */
export const maxTimerMs = 2_147_483_647;

// The longest grpc-timeout that still fits a timer, in whole seconds: 8 digits at most.
const maxGrpcTimeout = `${Math.floor(maxTimerMs / 1000)}S`;

const grpcUnitMs: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * Lowers a client deadline (`connect-timeout-ms`, `grpc-timeout`) that Node's timers cannot hold
 * to {@link maxTimerMs}, in place, before connect-node reads it. connect-node arms a timer with
 * the header's value as is: past 2^31-1 ms Node fires it after 1 ms with a
 * TimeoutOverflowWarning, so a legal, generous deadline failed at once with deadline_exceeded.
 * The call then runs within its tool's own time limit, which is far shorter. Malformed values
 * are left for connect-node to refuse.
 */
export function clampDeadlineHeaders(headers: IncomingHttpHeaders): void {
  const connect = headers["connect-timeout-ms"];
  if (typeof connect === "string" && /^\d{1,10}$/.test(connect) && Number(connect) > maxTimerMs) {
    headers["connect-timeout-ms"] = String(maxTimerMs);
  }
  const grpc = headers["grpc-timeout"];
  const match = typeof grpc === "string" ? /^(\d{1,8})([HMSmun])$/.exec(grpc) : null;
  if (match !== null && Number(match[1]) * (grpcUnitMs[match[2] ?? ""] ?? 0) > maxTimerMs) {
    headers["grpc-timeout"] = maxGrpcTimeout;
  }
}
