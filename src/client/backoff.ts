import { Code, ConnectError } from "@connectrpc/connect";

/** How waits between attempts grow: exponential, capped, with jitter. */
export interface BackoffOptions {
  /** Wait before the first retry, in ms (default 100). */
  readonly initialDelayMs?: number;
  /** Longest wait between attempts, in ms (default 5 000). */
  readonly maxDelayMs?: number;
  /** Factor each wait grows by (default 2). */
  readonly multiplier?: number;
  /**
   * Share of each wait that is random, 0–1 (default 0.5): a wait is `base × (1 − jitter × r)`
   * with r uniform in [0, 1), so clients that failed together do not retry together.
   */
  readonly jitter?: number;
}

/** The wait before retry number `retry` (0 for the first retry), in ms. */
export function backoffDelay(retry: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 5_000;
  const multiplier = options.multiplier ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const base = Math.min(max, initial * multiplier ** Math.max(0, retry));
  return Math.round(base * (1 - jitter * random()));
}

/**
 * Resolves after `ms`, or rejects as soon as `signal` aborts (with the signal's reason as a
 * ConnectError), so a cancelled or timed-out call never sleeps through its own end.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(ConnectError.from(signal.reason, Code.Canceled));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(ConnectError.from(signal?.reason, Code.Canceled));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
