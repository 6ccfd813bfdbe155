import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  createEventBus,
  createMemoryEventStore,
  type EventBus,
  type EventDraft,
  type EventStreamItem,
  type EventSubscription,
  type EventTypeName,
} from "../../src/events/index.js";

function draft(type: EventTypeName, toolName = "echo"): EventDraft {
  return {
    type,
    toolName,
    toolVersion: "1.0.0",
    callerId: "anonymous",
    requestId: "r",
    code: "",
    message: "",
    durationMs: undefined,
    status: undefined,
    arguments: undefined,
  };
}

function bus(options: { capacity?: number; queueSize?: number; heartbeatIntervalMs?: number; startSequence?: number } = {}): EventBus {
  return createEventBus({
    store: createMemoryEventStore({ serverId: "s1", capacity: options.capacity ?? 100, startSequence: options.startSequence ?? 0 }),
    queueSize: options.queueSize,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 0,
  });
}

/** Reads `count` events from a subscription (skipping heartbeats) and returns them. */
async function take(iterator: AsyncIterator<EventStreamItem>, count: number) {
  const events = [];
  while (events.length < count) {
    const next = await iterator.next();
    if (next.done === true) throw new Error(`stream ended after ${events.length} of ${count} events`);
    if (next.value.kind === "event") events.push(next.value.event);
  }
  return events;
}

async function failure(iterator: AsyncIterator<EventStreamItem>): Promise<ConnectError> {
  for (;;) {
    try {
      const next = await iterator.next();
      if (next.done === true) throw new Error("stream ended without an error");
    } catch (err) {
      return ConnectError.from(err);
    }
  }
}

const iterate = (subscription: EventSubscription) => subscription[Symbol.asyncIterator]();

describe("event bus", () => {
  it("delivers live events in order with strictly increasing sequence numbers", async () => {
    const b = bus();
    const it = iterate(await b.subscribe());
    for (const type of ["tool_called", "tool_succeeded", "tool_called", "tool_failed"] as const) b.publish(draft(type));
    const events = await take(it, 4);
    expect(events.map((e) => e.type)).toEqual(["tool_called", "tool_succeeded", "tool_called", "tool_failed"]);
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    expect(events.every((e) => e.serverId === "s1" && typeof e.time === "number")).toBe(true);
    await b.close();
  });

  it("starts every subscription with a heartbeat carrying the newest sequence", async () => {
    const b = bus();
    b.publish(draft("tool_called"));
    b.publish(draft("tool_succeeded"));
    const first = await iterate(await b.subscribe()).next();
    expect(first.value).toMatchObject({ kind: "heartbeat", lastSequence: 2 });
    await b.close();
  });

  it("sends only live events when no after_sequence is given", async () => {
    const b = bus();
    b.publish(draft("tool_called", "old"));
    const it = iterate(await b.subscribe());
    b.publish(draft("tool_called", "new"));
    expect((await take(it, 1)).map((e) => e.toolName)).toEqual(["new"]);
    await b.close();
  });

  it("replays what the buffer holds after after_sequence, then tails live events, with no gap or duplicate", async () => {
    const b = createEventBus({ store: createMemoryEventStore({ serverId: "s1", capacity: 1000, startSequence: 0 }), replayPageSize: 7 });
    for (let i = 0; i < 50; i++) b.publish(draft("tool_called"));
    const subscription = await b.subscribe({ afterSequence: 20 });
    // Published after subscribing but before the replay is read: must come once, in order.
    for (let i = 0; i < 10; i++) b.publish(draft("tool_succeeded"));
    const it = iterate(subscription);
    const events = await take(it, 40);
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => 21 + i));
    b.publish(draft("tool_failed"));
    expect((await take(it, 1))[0]?.sequence).toBe(61);
    await b.close();
  });

  it("replays everything the buffer holds for after_sequence 0, however old its oldest event", async () => {
    const b = bus({ capacity: 5, startSequence: 1000 });
    for (let i = 0; i < 8; i++) b.publish(draft("tool_called"));
    const events = await take(iterate(await b.subscribe({ afterSequence: 0 })), 5);
    expect(events.map((e) => e.sequence)).toEqual([1004, 1005, 1006, 1007, 1008]);
    await b.close();
  });

  it("answers out_of_range naming the lost events when asked for events older than the buffer", async () => {
    const b = bus({ capacity: 5 });
    for (let i = 0; i < 12; i++) b.publish(draft("tool_called"));
    const err = await b.subscribe({ afterSequence: 3 }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.OutOfRange);
    expect(err?.rawMessage).toBe(
      "cannot resume after sequence 3: events 4 to 7 are no longer in the replay buffer (it holds events 8 to 12). " +
        "Resume after 7 to continue past the gap, or with after_sequence 0 for everything held",
    );
    expect(b.subscribers).toBe(0);
    // The oldest sequence still resumable is accepted.
    const events = await take(iterate(await b.subscribe({ afterSequence: 7 })), 5);
    expect(events[0]?.sequence).toBe(8);
    await b.close();
  });

  it("answers out_of_range when resuming from a sequence this server never reached", async () => {
    const b = bus();
    b.publish(draft("tool_called"));
    const err = await b.subscribe({ afterSequence: 500 }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.OutOfRange);
    expect((err as ConnectError).rawMessage).toContain("the newest event of this server is 1");
    await b.close();
  });

  it("numbers a restarted server's events above its previous life's, so resuming from an old sequence reports the gap", async () => {
    const before = createEventBus({ store: createMemoryEventStore({ serverId: "s1", now: () => 1_000 }) });
    for (let i = 0; i < 3; i++) before.publish(draft("tool_called"));
    const lastSeen = before.newestSequence;
    await before.close();
    // The same server a moment later, with fewer events than before so far.
    const after = createEventBus({ store: createMemoryEventStore({ serverId: "s1", now: () => 1_001 }) });
    after.publish(draft("tool_called"));
    expect(after.newestSequence).toBeGreaterThan(lastSeen);
    const err = await after.subscribe({ afterSequence: lastSeen }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.OutOfRange);
    await after.close();
  });

  it("filters by type and by tool; a tool filter leaves out non-tool events", async () => {
    const b = bus();
    const byType = iterate(await b.subscribe({ types: ["tool_failed", "server_status"] }));
    const byTool = iterate(await b.subscribe({ tools: ["calc"] }));
    b.publish(draft("tool_called", "echo"));
    b.publish(draft("tool_failed", "echo"));
    b.publish(draft("tool_failed", "calc"));
    b.publish({ ...draft("server_status", ""), status: "draining" });
    expect((await take(byType, 3)).map((e) => `${e.type}:${e.toolName}`)).toEqual(["tool_failed:echo", "tool_failed:calc", "server_status:"]);
    b.publish(draft("tool_called", "calc"));
    expect((await take(byTool, 2)).map((e) => `${e.type}:${e.toolName}`)).toEqual(["tool_failed:calc", "tool_called:calc"]);
    await b.close();
  });

  it("cuts off a subscriber that falls behind, frees its queue, and lets it resume from its last sequence", async () => {
    const dropped: number[] = [];
    const b = createEventBus({
      store: createMemoryEventStore({ serverId: "s1", capacity: 10_000, startSequence: 0 }),
      queueSize: 8,
      onSubscriberDropped: () => dropped.push(1),
    });
    const slow = iterate(await b.subscribe());
    await slow.next(); // the opening heartbeat
    b.publish(draft("tool_called"));
    const [first] = await take(slow, 1);
    // A burst the slow reader does not keep up with: far more than its queue.
    for (let i = 0; i < 5_000; i++) b.publish(draft("tool_called"));
    expect(b.subscribers).toBe(0);
    expect(b.dropped).toBe(1);
    expect(dropped).toEqual([1]);
    const err = await failure(slow);
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toContain(`resume with after_sequence ${first?.sequence}`);
    // Resuming from the last sequence seen gets everything after it, nothing lost.
    const resumed = await take(iterate(await b.subscribe({ afterSequence: first?.sequence ?? 0 })), 5_000);
    expect(resumed[0]?.sequence).toBe(2);
    expect(resumed.at(-1)?.sequence).toBe(5_001);
    await b.close();
  });

  it("keeps memory bounded for a subscriber that never reads", async () => {
    const b = bus({ capacity: 100, queueSize: 16 });
    const subscription = await b.subscribe();
    for (let i = 0; i < 100_000; i++) b.publish(draft("tool_called"));
    expect(b.subscribers).toBe(0);
    expect(b.dropped).toBe(1);
    // Nothing queued is kept: the stream's very next read is the error.
    await expect(iterate(subscription).next()).rejects.toMatchObject({ code: Code.ResourceExhausted });
    await b.close();
  });

  it("sends heartbeats to idle subscribers and none while events flow", async () => {
    const b = bus({ heartbeatIntervalMs: 20 });
    const it = iterate(await b.subscribe());
    const kinds: string[] = [];
    while (kinds.filter((k) => k === "heartbeat").length < 3) kinds.push(((await it.next()).value as EventStreamItem).kind);
    expect(kinds).toEqual(["heartbeat", "heartbeat", "heartbeat"]);
    await b.close();
  });

  it("ends subscriptions with unavailable after their queued events when the server shuts down, and refuses new ones", async () => {
    const b = bus();
    const it = iterate(await b.subscribe());
    b.publish({ ...draft("server_status", ""), status: "draining" });
    b.shutdown();
    const [last] = await take(it, 1);
    expect(last?.type).toBe("server_status");
    const err = await failure(it);
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe("server is shutting down; watch again on another instance (resume after sequence 1 where the events are shared)");
    await expect(b.subscribe()).rejects.toMatchObject({ code: Code.Unavailable });
    await b.close();
  });

  it("ends a subscription when its signal aborts, even while it waits", async () => {
    const b = bus();
    const controller = new AbortController();
    const it = iterate(await b.subscribe({ signal: controller.signal }));
    await it.next();
    const pending = it.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(b.subscribers).toBe(0);
    await b.close();
  });

  it("refuses a second read of one subscription", async () => {
    const b = bus();
    const subscription = await b.subscribe();
    await iterate(subscription).next();
    await expect(iterate(subscription).next()).rejects.toThrow("an event subscription can be read only once");
    await b.close();
  });
  it("hands a subscriber only the events its visibility predicate lets through, replayed and live alike", async () => {
    const b = bus();
    b.publish(draft("tool_called", "secret"));
    b.publish(draft("tool_called", "open"));
    const it = iterate(await b.subscribe({ afterSequence: 0, visible: (event) => event.toolName !== "secret" }));
    b.publish(draft("tool_succeeded", "secret"));
    b.publish(draft("tool_succeeded", "open"));
    expect((await take(it, 2)).map((e) => `${e.type}:${e.toolName}`)).toEqual(["tool_called:open", "tool_succeeded:open"]);
    await b.close();
  });
});
