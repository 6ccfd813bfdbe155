import { forkTsx, nextMessage, stopChild } from "./child-processes.js";
import type { SubscriberCounts } from "./subscriber-tally.js";

export type { SubscriberCounts } from "./subscriber-tally.js";

/** Which streams a subscriber child holds open, and to which server. */
export interface SubscriberSpec {
  /** Origin of the server, e.g. http://127.0.0.1:1234. */
  readonly baseUrl: string;
  /** WatchEvents streams (gRPC over HTTP/2, one connection each). */
  readonly watchStreams: number;
  /** `GET /events` Server-Sent Events streams (EventSource over HTTP/1.1). */
  readonly sseStreams?: number;
  /** API key every stream sends as `x-api-key` (monitoring needs one when the server has keys). */
  readonly apiKey?: string;
}

/** Messages the orchestrator sends to a subscriber child. */
export type ToSubscriberChild = { readonly type: "count"; readonly id: number } | { readonly type: "stop" };

/** Messages a subscriber child sends to the orchestrator. */
export type FromSubscriberChild = { readonly type: "ready" } | ({ readonly type: "count"; readonly id: number } & SubscriberCounts);

/** A child process holding live event streams, seen from the orchestrator. */
export interface SubscriberProcess {
  readonly pid: number;
  /** What the streams have received so far. */
  counts(): Promise<SubscriberCounts>;
  /** Stops the child (by pid if it does not stop by itself). */
  stop(): Promise<void>;
}

/**
 * Forks a subscriber child with `count` WatchEvents streams to `baseUrl` (or the streams `spec`
 * names); resolves once every stream is open.
 */
export async function startSubscriberProcess(baseUrl: string, count: number, spec: Omit<SubscriberSpec, "baseUrl" | "watchStreams"> = {}): Promise<SubscriberProcess> {
  const full: SubscriberSpec = { ...spec, baseUrl, watchStreams: count };
  const streams = count + (spec.sseStreams ?? 0);
  const child = forkTsx(new URL("./subscriber-child.ts", import.meta.url), [JSON.stringify(full)]);
  try {
    await nextMessage(child, (m): m is FromSubscriberChild => (m as FromSubscriberChild | undefined)?.type === "ready", 30_000, `${streams} event streams to open`);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  let nextId = 0;
  return {
    pid: child.pid ?? -1,
    async counts() {
      const id = nextId++;
      const reply = nextMessage(
        child,
        (m): m is Extract<FromSubscriberChild, { type: "count" }> =>
          (m as FromSubscriberChild | undefined)?.type === "count" && (m as { id: number }).id === id,
        10_000,
        "subscriber counts",
      );
      child.send({ type: "count", id } satisfies ToSubscriberChild);
      const { type: _type, id: _id, ...counts } = await reply;
      return counts;
    },
    stop: () => stopChild(child),
  };
}
