import { setTimeout as sleep } from "node:timers/promises";

/**
 * Waits `ms` milliseconds unless `signal` aborts first, in which case it rejects with the
 * signal's reason (not a generic AbortError) and its timer is already cleared.
 */
export async function delay(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    throw signal.aborted ? signal.reason : err;
  }
}
