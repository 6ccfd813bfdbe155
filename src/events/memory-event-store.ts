import { stampEvent, type EventDraft, type ToolwireEvent } from "./event.js";
import { eventBytes } from "./event-size.js";
import type { EventPage, EventStore } from "./event-store.js";

/** Options of {@link createMemoryEventStore}. */
export interface MemoryEventStoreOptions {
  /** Server id stamped on every event. */
  readonly serverId: string;
  /** Most events kept for replay; older ones are dropped (default 10 000). */
  readonly capacity?: number | undefined;
  /**
   * Most bytes the events kept for replay may hold, about (see eventBytes: their text and the
   * JSON length of their arguments); the oldest are dropped first, but the newest event is
   * always kept (default 64 MiB). Bounding the count alone lets events with large arguments
   * take gigabytes.
   */
  readonly maxBytes?: number | undefined;
  /**
   * Sequence of the event before the first one (default: the start time in microseconds).
   * Starting from the clock rather than 0 means a restarted server never reuses the numbers of
   * its previous life, so a client resuming from an old sequence is told of the gap
   * (out_of_range) instead of silently receiving different events under the same numbers.
   */
  readonly startSequence?: number | undefined;
  /** Clock for event times, epoch ms (default Date.now). */
  readonly now?: (() => number) | undefined;
}

/**
 * Creates the in-memory event store: a ring buffer of the newest `capacity` events that hold at
 * most `maxBytes` together. Appending costs O(1) amortized and nothing else when nobody listens.
 * Events dropped for either bound are gone alike: resuming before them answers out_of_range.
 */
export function createMemoryEventStore(options: MemoryEventStoreOptions): EventStore {
  const capacity = options.capacity ?? 10_000;
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`event store capacity must be a whole number ≥ 1, got ${capacity}`);
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`event store byte bound must be a whole number ≥ 1, got ${maxBytes}`);
  const now = options.now ?? Date.now;
  const { serverId } = options;
  const ring: (ToolwireEvent | undefined)[] = Array.from({ length: capacity }, () => undefined);
  // The size of the event in the same slot of `ring`, counted once when it is stored.
  const sizes = new Float64Array(capacity);
  let bytes = 0;
  let newest = options.startSequence ?? now() * 1000;
  let held = 0;
  // Ring index of the newest event, kept apart from the (large) sequence number so that indexing
  // stays small-integer arithmetic.
  let slot = -1;
  let listeners: readonly ((event: ToolwireEvent) => void)[] = [];

  /** Forgets the oldest event held; `held` must be above 0. */
  function dropOldest(): void {
    let index = (slot - held + 1) % capacity;
    if (index < 0) index += capacity;
    ring[index] = undefined;
    bytes -= sizes[index] as number;
    sizes[index] = 0;
    held--;
  }

  return {
    append(draft: EventDraft) {
      const event = stampEvent(draft, ++newest, now(), serverId);
      const size = eventBytes(event);
      // The slot about to be reused holds the oldest event when the ring is full.
      if (held === capacity) dropOldest();
      while (held > 0 && bytes + size > maxBytes) dropOldest();
      slot = slot + 1 === capacity ? 0 : slot + 1;
      ring[slot] = event;
      sizes[slot] = size;
      bytes += size;
      held++;
      for (const listener of listeners) listener(event);
    },
    read(afterSequence, limit) {
      const oldest = newest - held + 1;
      const from = Math.max(afterSequence + 1, oldest);
      const to = Math.min(newest, from + limit - 1);
      const events: ToolwireEvent[] = [];
      // The newest event is in `slot`; the one `k` older is `k` slots before it (wrapping).
      for (let seq = from; seq <= to; seq++) {
        const index = (slot - (newest - seq)) % capacity;
        events.push(ring[index < 0 ? index + capacity : index] as ToolwireEvent);
      }
      const page: EventPage = { events, oldestSequence: oldest, newestSequence: newest };
      return Promise.resolve(page);
    },
    listen(listener) {
      listeners = [...listeners, listener];
      return () => {
        listeners = listeners.filter((l) => l !== listener);
      };
    },
    get newestSequence() {
      return newest;
    },
    close() {
      listeners = [];
      ring.fill(undefined);
      sizes.fill(0);
      bytes = 0;
      held = 0;
      return Promise.resolve();
    },
  };
}
