import type { EventDraft, ToolwireEvent } from "./event.js";

/** A page of stored events and the range the store still holds. */
export interface EventPage {
  /** Events after the sequence asked for, oldest first. */
  readonly events: readonly ToolwireEvent[];
  /** Oldest sequence still held; `newestSequence + 1` when the store holds nothing. */
  readonly oldestSequence: number;
  /** Newest sequence given out so far. */
  readonly newestSequence: number;
}

/**
 * Where events live: it numbers them, keeps a bounded history for replay and tells listeners
 * about new ones. The in-memory store serves one instance; a store shared by several instances
 * (Redis Streams) implements the same interface, which is why reads are asynchronous and
 * appends are fire-and-forget.
 */
export interface EventStore {
  /**
   * Stores an event, giving it the next sequence number, the time and the server id, and
   * delivers it to listeners in sequence order. Never throws and never blocks the caller: a
   * shared store reports failures through its own error hook.
   */
  append(draft: EventDraft): void;
  /**
   * Resolves once live delivery has a starting point in the store, so that a read made
   * afterwards and the live events together leave no gap, or rejects with unavailable when the
   * store cannot tell now; stores that are ready from the start leave it out.
   */
  ready?(): Promise<void>;
  /** Up to `limit` held events with a sequence above `afterSequence`, oldest first. */
  read(afterSequence: number, limit: number): Promise<EventPage>;
  /** Calls `listener` with every event stored from now on; returns the unsubscribe function. */
  listen(listener: (event: ToolwireEvent) => void): () => void;
  /**
   * Calls `listener` when live delivery skipped sequences that cannot be replayed (a shared
   * store trimmed them, or an instance lost them while the store was away); stores that never
   * skip leave it out. Returns the unsubscribe function.
   */
  listenGaps?(listener: (afterSequence: number, oldest: number, newest: number) => void): () => void;
  /** The newest sequence given out so far, as far as this instance knows. */
  readonly newestSequence: number;
  /** Releases what the store holds open (connections, timers). */
  close(): Promise<void>;
}
