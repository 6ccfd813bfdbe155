/**
 * closed: calls go through. open: calls are refused until the reset timeout passes.
 * half_open: one probe call goes through; its outcome closes or reopens the circuit.
 */
export type CircuitState = "closed" | "open" | "half_open";

/** When a circuit opens and when it is probed again. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  readonly failureThreshold?: number;
  /** How long an open circuit refuses calls before letting a probe through, in ms (default 30 000). */
  readonly resetTimeoutMs?: number;
}

/** A per-server circuit breaker. */
export interface CircuitBreaker {
  /** The state now (an open circuit whose timeout passed reports half_open). */
  readonly state: CircuitState;
  /** Consecutive failures recorded. */
  readonly consecutiveFailures: number;
  /**
   * Whether a call may go through now. In half_open only one probe is let through until its
   * outcome is recorded.
   */
  tryAcquire(): boolean;
  /** Records a call that reached a working server: closes the circuit. */
  success(): void;
  /** Records a call that failed for the server's sake (unavailable, connection failure). */
  failure(): void;
  /** Ends a call that said nothing about the server (the caller cancelled it). */
  release(): void;
}

/** Creates a circuit breaker; `now` is the clock (epoch ms). */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}, now: () => number = Date.now): CircuitBreaker {
  const threshold = Math.max(1, options.failureThreshold ?? 5);
  const resetTimeoutMs = options.resetTimeoutMs ?? 30_000;
  let failures = 0;
  let openedAt: number | undefined;
  let probing = false;

  const state = (): CircuitState => {
    if (openedAt === undefined) return "closed";
    return now() - openedAt >= resetTimeoutMs ? "half_open" : "open";
  };

  return {
    get state() {
      return state();
    },
    get consecutiveFailures() {
      return failures;
    },
    tryAcquire() {
      const s = state();
      if (s === "closed") return true;
      if (s === "open" || probing) return false;
      probing = true;
      return true;
    },
    success() {
      failures = 0;
      openedAt = undefined;
      probing = false;
    },
    failure() {
      failures++;
      // A failed probe reopens the circuit for another full timeout.
      if (failures >= threshold || openedAt !== undefined) openedAt = now();
      probing = false;
    },
    release() {
      probing = false;
    },
  };
}
