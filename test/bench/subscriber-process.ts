import { forkTsx, nextMessage, stopChild } from "./child-processes.js";

/** Messages the orchestrator sends to a subscriber child. */
export type ToSubscriberChild = { readonly type: "count"; readonly id: number } | { readonly type: "stop" };

/** Messages a subscriber child sends to the orchestrator. */
export type FromSubscriberChild =
  | { readonly type: "ready" }
  | { readonly type: "count"; readonly id: number; readonly events: number; readonly cutOff: number };

/** What the subscribers have received so far. */
export interface SubscriberCounts {
  /** Events received, over all streams. */
  readonly events: number;
  /** Times a stream was cut off for falling behind (and resumed). */
  readonly cutOff: number;
}

/** A child process holding live WatchEvents streams, seen from the orchestrator. */
export interface SubscriberProcess {
  readonly pid: number;
  /** What the streams have received so far. */
  counts(): Promise<SubscriberCounts>;
  /** Stops the child (by pid if it does not stop by itself). */
  stop(): Promise<void>;
}

/** Forks a subscriber child with `count` WatchEvents streams to `baseUrl`; resolves once every stream is open. */
export async function startSubscriberProcess(baseUrl: string, count: number): Promise<SubscriberProcess> {
  const child = forkTsx(new URL("./subscriber-child.ts", import.meta.url), [baseUrl, String(count)]);
  try {
    await nextMessage(child, (m): m is FromSubscriberChild => (m as FromSubscriberChild | undefined)?.type === "ready", 30_000, `${count} event streams to open`);
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
      const { events, cutOff } = await reply;
      return { events, cutOff };
    },
    stop: () => stopChild(child),
  };
}
