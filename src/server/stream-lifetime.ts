import { Code, ConnectError } from "@connectrpc/connect";

/** How long a long-lived stream (WatchEvents, /events, health Watch) may run, and why it ended. */
export interface StreamLifetime {
  /** Aborts when the client leaves or the maximum duration is reached. */
  readonly signal: AbortSignal;
  /** Whether the maximum duration ended the stream (not the client). */
  readonly expired: boolean;
  /** The `unavailable` error an expired stream ends with, telling the client to resume. */
  expiredError(): ConnectError;
  /** Stops the timer and the listener on the client's signal; call when the stream ends. */
  dispose(): void;
}

/**
 * Bounds a stream by `limits.maxStreamDurationMs`, so no connection is held forever. The stream
 * ends with `unavailable`, which every client here treats as "reconnect and resume from the last
 * sequence", rather than as a failure.
 */
export function createStreamLifetime(clientSignal: AbortSignal, maxDurationMs: number, resumeHint: string): StreamLifetime {
  const controller = new AbortController();
  let expired = false;
  const leave = () => controller.abort(clientSignal.reason);
  if (clientSignal.aborted) leave();
  else clientSignal.addEventListener("abort", leave, { once: true });
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, maxDurationMs);
  // The timer must never keep a stopping process alive.
  timer.unref();
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    expiredError: () => new ConnectError(`the stream reached the server's maximum duration (${maxDurationMs} ms); ${resumeHint}`, Code.Unavailable),
    dispose() {
      clearTimeout(timer);
      clientSignal.removeEventListener("abort", leave);
    },
  };
}
