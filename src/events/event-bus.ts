import type { ConnectError } from "@connectrpc/connect";
import type { EventDraft, ToolwireEvent } from "./event.js";
import { eventsOutOfRange, eventsShuttingDown, subscriberTooSlow } from "./event-errors.js";
import { compileEventFilter, type EventFilter } from "./event-filter.js";
import type { EventStore } from "./event-store.js";

/** Options of {@link createEventBus}. */
export interface EventBusOptions {
  /** Where events are numbered and kept for replay. */
  readonly store: EventStore;
  /**
   * Most events waiting for one subscriber; a subscriber that falls this far behind is cut off
   * with resource_exhausted (default 1024). This is what bounds memory per slow client.
   */
  readonly queueSize?: number | undefined;
  /** How often an idle subscription gets a heartbeat, in ms (default 15 000; 0 turns them off). */
  readonly heartbeatIntervalMs?: number | undefined;
  /** Events fetched from the store per replay read (default 256). */
  readonly replayPageSize?: number | undefined;
  /** Told when a subscriber is cut off for falling behind (for metrics). */
  readonly onSubscriberDropped?: (() => void) | undefined;
  /** Clock for heartbeat times, epoch ms (default Date.now). */
  readonly now?: (() => number) | undefined;
}

/** One message of a subscription: an event, or a heartbeat while idle. */
export type EventStreamItem =
  | { readonly kind: "event"; readonly event: ToolwireEvent }
  | { readonly kind: "heartbeat"; readonly time: number; readonly lastSequence: number };

/** What a subscriber asks for. */
export interface SubscribeOptions extends EventFilter {
  /**
   * Replay held events with a larger sequence first; absent means live events only, 0 means
   * everything the store holds. Rejects with out_of_range when events after it are gone.
   */
  readonly afterSequence?: number | undefined;
  /** Ends the subscription when aborted (the client went away). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Which events this subscriber may read at all (its principal's view), applied like the
   * filter to replayed and live events alike; absent means every event.
   */
  readonly visible?: ((event: ToolwireEvent) => boolean) | undefined;
}

/**
 * A live subscription, read once as an async iterable. It starts with a heartbeat (so the
 * client learns the newest sequence at once), then replays, then tails live events. It ends
 * when closed, and fails with resource_exhausted when it falls behind or unavailable when the
 * server shuts down.
 */
export interface EventSubscription extends AsyncIterable<EventStreamItem> {
  /** Ends the subscription; a pending read returns done. */
  close(): void;
  /** Sequence of the last event handed out, if any. */
  readonly lastSequence: number | undefined;
}

/** Publishes events and fans them out to filtered, bounded subscriptions. */
export interface EventBus {
  /** Stores and delivers an event; cheap when nobody listens. */
  publish(draft: EventDraft): void;
  /** Subscribes; rejects with out_of_range when `afterSequence` is older than what is held. */
  subscribe(options?: SubscribeOptions): Promise<EventSubscription>;
  /** Subscriptions open now. */
  readonly subscribers: number;
  /** Subscriptions cut off for falling behind, since start. */
  readonly dropped: number;
  /** The newest sequence published. */
  readonly newestSequence: number;
  /** Ends every subscription (after what is queued) with unavailable and refuses new ones. */
  shutdown(): void;
  /** Shuts down if needed, stops the heartbeat timer and closes the store. */
  close(): Promise<void>;
}

/** Creates an event bus over a store. */
export function createEventBus(options: EventBusOptions): EventBus {
  const { store } = options;
  const queueSize = options.queueSize ?? 1024;
  if (!Number.isInteger(queueSize) || queueSize < 1) throw new RangeError(`subscriber queue size must be a whole number ≥ 1, got ${queueSize}`);
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 15_000;
  const pageSize = options.replayPageSize ?? 256;
  const now = options.now ?? Date.now;
  const subscriptions = new Set<Subscription>();
  let dropped = 0;
  let shutDown = false;
  let heartbeatTimer: NodeJS.Timeout | undefined;

  const unlisten = store.listen((event) => {
    for (const subscription of subscriptions) subscription.offer(event);
  });

  // Live events skipped numbers nobody can replay: watchers are told, never left with a silent gap.
  const unlistenGaps = store.listenGaps?.((after, oldest, newest) => {
    for (const subscription of subscriptions) subscription.gap(after, oldest, newest);
  });

  function heartbeatTick(): void {
    for (const subscription of subscriptions) subscription.tick();
  }

  const bus: Bus = {
    store,
    queueSize,
    pageSize,
    now,
    remove(subscription, slow) {
      if (!subscriptions.delete(subscription)) return;
      if (slow) {
        dropped++;
        options.onSubscriberDropped?.();
      }
      if (subscriptions.size === 0 && heartbeatTimer !== undefined) {
        clearInterval(heartbeatTimer);
        heartbeatTimer = undefined;
      }
    },
  };

  return {
    publish(draft) {
      store.append(draft);
    },
    async subscribe(subscribeOptions = {}) {
      if (shutDown) throw eventsShuttingDown(undefined);
      const { afterSequence } = subscribeOptions;
      // A live-only watch counts from the newest sequence, which a shared store knows only once
      // it has joined the stream (a replay's read waits for that by itself).
      if (afterSequence === undefined && store.ready !== undefined) {
        await store.ready();
        if (shutDown) throw eventsShuttingDown(undefined);
      }
      const subscription = new Subscription(bus, acceptor(subscribeOptions), afterSequence ?? store.newestSequence);
      // Listen before reading the history, so nothing published in between falls in a gap;
      // what arrives twice is skipped by sequence.
      subscriptions.add(subscription);
      if (heartbeatIntervalMs > 0 && heartbeatTimer === undefined) {
        // Referenced on purpose: it only runs while streams are open (which hold the process
        // anyway), and a timer left running after close would show as a process that never exits.
        heartbeatTimer = setInterval(heartbeatTick, heartbeatIntervalMs);
      }
      if (afterSequence !== undefined) {
        let page;
        try {
          page = await store.read(afterSequence, pageSize);
        } catch (err) {
          subscription.close();
          throw err;
        }
        const gap = afterSequence !== 0 && (afterSequence > page.newestSequence || afterSequence < page.oldestSequence - 1);
        if (gap) {
          subscription.close();
          throw eventsOutOfRange(afterSequence, page.oldestSequence, page.newestSequence);
        }
        // 0 asks for everything held, however old the oldest event is.
        subscription.startReplay(page.events, afterSequence === 0 ? page.oldestSequence - 1 : afterSequence, afterSequence === 0);
      }
      const { signal } = subscribeOptions;
      if (signal !== undefined) {
        if (signal.aborted) subscription.close();
        else subscription.closeOn(signal);
      }
      if (shutDown) subscription.fail(eventsShuttingDown, true);
      return subscription;
    },
    get subscribers() {
      return subscriptions.size;
    },
    get dropped() {
      return dropped;
    },
    get newestSequence() {
      return store.newestSequence;
    },
    shutdown() {
      shutDown = true;
      for (const subscription of subscriptions) subscription.fail(eventsShuttingDown, true);
    },
    async close() {
      this.shutdown();
      for (const subscription of [...subscriptions]) subscription.close();
      if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
      heartbeatTimer = undefined;
      unlisten();
      unlistenGaps?.();
      await store.close();
    },
  };
}

/** The subscriber's filter and what it may see, as one predicate. */
function acceptor(options: SubscribeOptions): (event: ToolwireEvent) => boolean {
  const wanted = compileEventFilter(options);
  const { visible } = options;
  return visible === undefined ? wanted : (event) => visible(event) && wanted(event);
}

/** What a subscription needs from its bus. */
interface Bus {
  readonly store: EventStore;
  readonly queueSize: number;
  readonly pageSize: number;
  readonly now: () => number;
  remove(subscription: Subscription, slow: boolean): void;
}

/**
 * One subscriber's state. A class because it is mutable state with identity, touched on every
 * published event: fields are cheaper than closures here.
 */
class Subscription implements EventSubscription {
  private queue: ToolwireEvent[] = [];
  private head = 0;
  /** The page of stored events being replayed; undefined once the replay has caught up with the store. */
  private replay: readonly ToolwireEvent[] | undefined;
  private replayIndex = 0;
  /** Sequence of the last event processed (handed out or filtered away): older ones are skipped. */
  private cursor: number;
  /**
   * True while a replay of everything held has processed no event yet: the cursor is then only
   * a guess (a shared store that held nothing cannot know where numbering will start), so
   * whatever the store holds next is no gap.
   */
  private fromOldest = false;
  /** Why the subscription ends: made when thrown, so it names the last sequence handed out by then. */
  private failure: { error: (lastSequence: number | undefined) => ConnectError; afterQueue: boolean } | undefined;
  private closed = false;
  private iterated = false;
  private heartbeatDue = true;
  private deliveredSinceTick = false;
  private wake: (() => void) | undefined;
  private abortCleanup: (() => void) | undefined;
  lastSequence: number | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly accepts: (event: ToolwireEvent) => boolean,
    startAfter: number,
  ) {
    this.cursor = startAfter;
  }

  /** A live event was published. */
  offer(event: ToolwireEvent): void {
    if (this.failure !== undefined || this.closed || !this.accepts(event)) return;
    if (this.queue.length - this.head >= this.bus.queueSize) {
      // Drop what is queued at once: memory must not grow with a client that does not read.
      const last = this.lastSequence;
      this.fail(() => subscriberTooSlow(this.bus.queueSize, last), false, true);
      return;
    }
    this.queue.push(event);
    this.notify();
  }

  /** Live delivery skipped the events between `after` and `oldest`: fail after what is queued. */
  gap(after: number, oldest: number, newest: number): void {
    const error = eventsOutOfRange(after, oldest, newest);
    this.fail(() => error, true);
  }

  /** A heartbeat period passed. */
  tick(): void {
    if (!this.deliveredSinceTick) {
      this.heartbeatDue = true;
      this.notify();
    }
    this.deliveredSinceTick = false;
  }

  /**
   * Hands out `first` (the first page read from the store) before live events, from `after` on;
   * `fromOldest` when the subscriber asked for everything held.
   */
  startReplay(first: readonly ToolwireEvent[], after: number, fromOldest: boolean): void {
    this.replay = first;
    this.replayIndex = 0;
    this.cursor = after;
    this.fromOldest = fromOldest;
  }

  closeOn(signal: AbortSignal): void {
    const onAbort = () => this.close();
    signal.addEventListener("abort", onAbort, { once: true });
    this.abortCleanup = () => signal.removeEventListener("abort", onAbort);
  }

  /**
   * Ends the subscription with an error, either at once or after the queued events; `slow`
   * counts it as a subscriber dropped for falling behind.
   */
  fail(error: (lastSequence: number | undefined) => ConnectError, afterQueue: boolean, slow = false): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = { error, afterQueue };
    if (!afterQueue) {
      this.queue = [];
      this.head = 0;
      this.replay = undefined;
    }
    this.bus.remove(this, slow);
    this.notify();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.replay = undefined;
    this.abortCleanup?.();
    this.abortCleanup = undefined;
    this.bus.remove(this, false);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<EventStreamItem> {
    if (this.iterated) throw new Error("an event subscription can be read only once");
    this.iterated = true;
    try {
      for (;;) {
        if (this.closed) return;
        const failure = this.failure;
        if (failure !== undefined && (!failure.afterQueue || this.pending() === 0)) throw failure.error(this.lastSequence);
        if (this.heartbeatDue) {
          this.heartbeatDue = false;
          yield { kind: "heartbeat", time: this.bus.now(), lastSequence: this.bus.store.newestSequence };
          continue;
        }
        const event = await this.nextEvent();
        if (event !== undefined) {
          this.deliveredSinceTick = true;
          this.lastSequence = event.sequence;
          yield { kind: "event", event };
          continue;
        }
        if (this.closed || this.failure !== undefined || this.heartbeatDue || this.pending() > 0) continue;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.close();
    }
  }

  /** Events waiting in the queue. */
  private pending(): number {
    return this.queue.length - this.head;
  }

  /** The next event to hand out, from the replay first, then the live queue; undefined when none waits. */
  private async nextEvent(): Promise<ToolwireEvent | undefined> {
    while (this.replay !== undefined) {
      const event = this.replay[this.replayIndex++];
      if (event === undefined) {
        // This page is done: read on from the store until it has nothing newer.
        const page = await this.bus.store.read(this.cursor, this.bus.pageSize);
        if (this.replay === undefined) return undefined;
        if (page.oldestSequence > this.cursor + 1 && !this.fromOldest) {
          const error = eventsOutOfRange(this.cursor, page.oldestSequence, page.newestSequence);
          this.fail(() => error, false);
          return undefined;
        }
        this.replay = page.events.length > 0 ? page.events : undefined;
        this.replayIndex = 0;
        continue;
      }
      if (event.sequence <= this.cursor) continue;
      this.cursor = event.sequence;
      this.fromOldest = false;
      if (this.accepts(event)) return event;
    }
    while (this.head < this.queue.length) {
      const event = this.queue[this.head++] as ToolwireEvent;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head >= 1024) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (event.sequence <= this.cursor) continue;
      this.cursor = event.sequence;
      this.fromOldest = false;
      return event;
    }
    return undefined;
  }
}
