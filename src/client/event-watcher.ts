import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { EventType, MonitorService, type Event } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { backoffDelay, sleep, type BackoffOptions } from "./backoff.js";
import { codeName } from "../runtime/code-name.js";
import type { ClientLogger } from "./logging-interceptor.js";

/**
 * Where an event listener's stream is: connecting → connected → reconnecting → connected, or
 * failed when it gives up; disconnected once the client disconnects or the listener is removed.
 */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "failed" | "disconnected";

/** A change of an event listener's connection status. */
export interface ConnectionStatusChange {
  /** The new status. */
  readonly status: ConnectionStatus;
  /** The status before. */
  readonly previous: ConnectionStatus;
  /** Consecutive failed attempts so far (0 once connected). */
  readonly attempt: number;
  /** Why the stream dropped or failed, for reconnecting and failed. */
  readonly error?: ConnectError;
  /** How long until the next attempt, for reconnecting. */
  readonly delayMs?: number;
}

/**
 * Events may have been lost: the server no longer holds the events after `afterSequence` (it
 * restarted and kept its events only in memory, or the listener fell further behind than its
 * replay buffer). The listener goes on with every event the server still has.
 */
export interface EventGap {
  /** The last sequence delivered before the gap; undefined when none had been. */
  readonly afterSequence: bigint | undefined;
  /** The server's out_of_range error (or the client's own account of the gap). */
  readonly error: ConnectError;
}

/**
 * Callbacks for a server's events (MonitorService.WatchEvents). Each may be async; they run one
 * at a time in event order, and one that throws is logged without stopping the others.
 */
export interface ToolwireEventListener {
  /** Every event, before the typed callbacks below. */
  onEvent?(event: Event): void | Promise<void>;
  /** A call passed every check and its handler started. */
  onToolCalled?(event: Event): void | Promise<void>;
  /** A call answered a result that is not an error. */
  onToolResult?(event: Event): void | Promise<void>;
  /** A call failed (code "tool_error" or an error code), was denied, or was rate limited (see `event.type`). */
  onToolError?(event: Event): void | Promise<void>;
  /** A tool version was registered. */
  onToolRegistered?(event: Event): void | Promise<void>;
  /** A tool version was unregistered. */
  onToolUnregistered?(event: Event): void | Promise<void>;
  /** The server changed status (serving, draining, degraded). */
  onServerStatus?(event: Event): void | Promise<void>;
  /** The event stream connected, dropped, reconnected or gave up. */
  onConnectionStatus?(change: ConnectionStatusChange): void | Promise<void>;
  /** Events may have been lost (see {@link EventGap}). */
  onGap?(gap: EventGap): void | Promise<void>;
}

/** Options of an event listener. */
export interface EventListenerOptions {
  /** Only these event types; default every type. */
  readonly types?: readonly EventType[];
  /** Only events of these tools; default every tool (and non-tool events). */
  readonly tools?: readonly string[];
  /**
   * Replay the events the server still holds after this sequence before live ones (0n: all it
   * holds); default live events only.
   */
  readonly afterSequence?: bigint;
  /** Waits between reconnection attempts (default 200 ms growing to 10 s). */
  readonly reconnect?: BackoffOptions & {
    /** Consecutive failed attempts before giving up with status "failed" (default: never give up). */
    readonly maxAttempts?: number;
  };
}

/** A running subscription of one listener. */
export interface EventWatcher {
  /** The listener's connection status now. */
  readonly status: ConnectionStatus;
  /** The sequence of the last event delivered. */
  readonly lastSequence: bigint | undefined;
  /** Starts (or restarts after stop) watching; resumes after the last event delivered. */
  start(): void;
  /** Stops watching; resolves once the stream is closed and no callback is running. */
  stop(): Promise<void>;
}

/** Errors that reconnecting cannot fix: the stream ends with status failed. */
const permanentCodes = new Set([
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.Unimplemented,
  Code.InvalidArgument,
  Code.NotFound,
  Code.FailedPrecondition,
]);

/**
 * Watches a server's events for one listener, reconnecting with capped exponential backoff and
 * resuming after the last sequence delivered, so a dropped connection loses and repeats nothing.
 * When the server says the events after that sequence are gone (out_of_range), or its sequence
 * has gone backwards (it restarted), the listener is told of the gap and the watch goes on with
 * everything the server still holds.
 */
export function createEventWatcher(
  transport: Transport,
  listener: ToolwireEventListener,
  options: EventListenerOptions = {},
  logger?: ClientLogger,
): EventWatcher {
  const monitor = createClient(MonitorService, transport);
  const backoff: BackoffOptions = { initialDelayMs: 200, maxDelayMs: 10_000, ...options.reconnect };
  const maxAttempts = options.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY;
  let status: ConnectionStatus = "disconnected";
  let lastSequence: bigint | undefined;
  // What the next stream asks for: after the last delivered event, or the caller's start point.
  let resumeAfter: bigint | undefined = options.afterSequence;
  let controller: AbortController | undefined;
  let running: Promise<void> | undefined;

  async function invoke(name: string, fn: (() => void | Promise<void>) | undefined): Promise<void> {
    if (fn === undefined) return;
    try {
      await fn();
    } catch (err) {
      logger?.error({ callback: name, error: err instanceof Error ? err.message : String(err) }, "event listener threw");
    }
  }

  // Callbacks run one at a time, in the order things happened, even when some are async.
  let chain: Promise<void> = Promise.resolve();
  const serial = (fn: () => Promise<void>): Promise<void> => (chain = chain.then(fn));

  function setStatus(next: ConnectionStatus, attempt: number, error?: ConnectError, delayMs?: number): Promise<void> {
    if (next === status) return chain;
    const change: ConnectionStatusChange = {
      status: next,
      previous: status,
      attempt,
      ...(error === undefined ? {} : { error }),
      ...(delayMs === undefined ? {} : { delayMs }),
    };
    status = next;
    if (next === "reconnecting" || next === "failed") {
      logger?.warn({ status: next, attempt, code: error && codeName(error.code), error: error?.rawMessage, delayMs }, "event stream");
    } else logger?.info({ status: next }, "event stream");
    return serial(() => invoke("onConnectionStatus", listener.onConnectionStatus && (() => listener.onConnectionStatus?.(change))));
  }

  function deliver(event: Event): Promise<void> {
    return serial(async () => {
      await invoke("onEvent", listener.onEvent && (() => listener.onEvent?.(event)));
      const typed = typedCallback(listener, event.type);
      if (typed !== undefined) await invoke(typed.name, () => typed.fn(event));
    });
  }

  async function run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    let gapBefore = false;
    const connected = () => {
      if (status === "connected") return;
      attempt = 0;
      void setStatus("connected", 0);
    };
    await setStatus("connecting", 0);
    while (!signal.aborted) {
      let failure: ConnectError;
      try {
        const stream = monitor.watchEvents(
          { types: [...(options.types ?? [])], tools: [...(options.tools ?? [])], afterSequence: resumeAfter },
          // An event stream lives until it is stopped: no deadline. The server opens every
          // subscription with a heartbeat, so the first message says that it stands (response
          // headers do not: a refusal may follow them).
          { signal, timeoutMs: 0 },
        );
        for await (const message of stream) {
          connected();
          if (message.kind.case === "heartbeat") {
            const newest = message.kind.value.lastSequence;
            // The server's newest sequence is older than what we saw: it restarted and lost them.
            if (lastSequence !== undefined && newest < lastSequence) {
              throw new ConnectError(
                `the server's newest event is ${newest}, older than the last one delivered (${lastSequence}): it restarted and lost its events`,
                Code.OutOfRange,
              );
            }
            // A live-only watch resumes from where it started: the server opens every stream with
            // a heartbeat naming its newest sequence, and what follows is newer.
            resumeAfter ??= newest;
            continue;
          }
          if (message.kind.case !== "event") continue;
          gapBefore = false;
          const event = message.kind.value;
          // A replay may overlap what was delivered before the connection dropped.
          if (lastSequence !== undefined && event.sequence <= lastSequence) continue;
          await deliver(event);
          lastSequence = event.sequence;
          resumeAfter = event.sequence;
          if (signal.aborted) return;
        }
        failure = new ConnectError("the server ended the event stream", Code.Unavailable);
      } catch (err) {
        if (signal.aborted) return;
        failure = ConnectError.from(err);
      }
      if (failure.code === Code.OutOfRange) {
        const gap: EventGap = { afterSequence: lastSequence, error: failure };
        await serial(() => invoke("onGap", listener.onGap && (() => listener.onGap?.(gap))));
        // Go on with everything the server still holds, whatever its sequence numbers now are.
        lastSequence = undefined;
        resumeAfter = 0n;
        // The server is there and answered: ask again at once, unless it keeps saying so.
        if (!gapBefore) {
          gapBefore = true;
          continue;
        }
      } else if (permanentCodes.has(failure.code)) {
        await setStatus("failed", attempt + 1, failure);
        return;
      }
      attempt++;
      if (attempt > maxAttempts) {
        await setStatus("failed", attempt, failure);
        return;
      }
      const delayMs = backoffDelay(attempt - 1, backoff);
      await setStatus("reconnecting", attempt, failure, delayMs);
      try {
        await sleep(delayMs, signal);
      } catch {
        return;
      }
    }
  }

  return {
    get status() {
      return status;
    },
    get lastSequence() {
      return lastSequence;
    },
    start() {
      if (controller !== undefined) return;
      const ac = new AbortController();
      controller = ac;
      running = run(ac.signal).then(async () => {
        if (ac.signal.aborted) await setStatus("disconnected", 0);
        await chain;
      });
    },
    async stop() {
      const ac = controller;
      controller = undefined;
      if (ac === undefined) return;
      ac.abort(new ConnectError("event listener stopped", Code.Canceled));
      await running;
    },
  };
}

function typedCallback(
  listener: ToolwireEventListener,
  type: EventType,
): { readonly name: string; readonly fn: (event: Event) => void | Promise<void> } | undefined {
  const pick = (name: keyof ToolwireEventListener) => {
    const fn = listener[name] as ((event: Event) => void | Promise<void>) | undefined;
    return fn === undefined ? undefined : { name, fn: (event: Event) => fn.call(listener, event) };
  };
  switch (type) {
    case EventType.TOOL_CALLED:
      return pick("onToolCalled");
    case EventType.TOOL_SUCCEEDED:
      return pick("onToolResult");
    case EventType.TOOL_FAILED:
    case EventType.TOOL_DENIED:
    case EventType.RATE_LIMITED:
      return pick("onToolError");
    case EventType.TOOL_REGISTERED:
      return pick("onToolRegistered");
    case EventType.TOOL_UNREGISTERED:
      return pick("onToolUnregistered");
    case EventType.SERVER_STATUS:
      return pick("onServerStatus");
    default:
      return undefined;
  }
}
