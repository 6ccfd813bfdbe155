import { Code } from "@connectrpc/connect";

/** What a subscriber child's streams have seen so far, over all of them. */
export interface SubscriberCounts {
  /** Events received. */
  readonly events: number;
  /** Times a stream was cut off for falling behind (and resumed). */
  readonly cutOff: number;
  /** Events that never arrived: gaps in the sequence numbers of one stream, resumes included. */
  readonly missed: number;
  /** Streams that failed for any other reason (and were reopened). */
  readonly errors: number;
  /** The first few of those failures' messages. */
  readonly firstErrors: readonly string[];
}

/** Counts for every stream of a subscriber child; each stream tracks its own last sequence. */
export interface SubscriberTally {
  /** Counts one event of a stream whose previous event was `previous` (undefined: none yet). */
  event(previous: bigint | undefined, sequence: bigint): void;
  cutOff(): void;
  error(message: string): void;
  counts(): SubscriberCounts;
}

const keptErrors = 5;

/**
 * Whether a stream ended because it reached the server's `limits.maxStreamDurationMs`: the
 * `unavailable` that tells a client to resume, not a failure.
 */
export function isLifetimeEnd(code: Code, message: string): boolean {
  return code === Code.Unavailable && message.includes("maximum duration");
}

/** Creates an empty tally. */
export function createSubscriberTally(): SubscriberTally {
  let events = 0;
  let cutOff = 0;
  let missed = 0;
  let errors = 0;
  const firstErrors: string[] = [];
  return {
    event(previous, sequence) {
      events++;
      // Streams are unfiltered, so one stream sees every sequence number of the server.
      if (previous !== undefined && sequence > previous + 1n) missed += Number(sequence - previous - 1n);
    },
    cutOff: () => void cutOff++,
    error(message) {
      errors++;
      if (firstErrors.length < keptErrors) firstErrors.push(message);
    },
    counts: () => ({ events, cutOff, missed, errors, firstErrors: [...firstErrors] }),
  };
}
