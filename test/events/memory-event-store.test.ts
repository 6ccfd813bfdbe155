import { Code, ConnectError } from "@connectrpc/connect";
import type { JsonObject } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { createEventBus, createMemoryEventStore } from "../../src/events/index.js";
import { capEventArguments, eventBytes } from "../../src/events/event-size.js";
import { echoCalledDraft } from "../helpers/event-drafts.js";

/** Arguments whose JSON is about `kib` KiB long. */
function bigArguments(kib: number): JsonObject {
  return { message: "x".repeat(kib * 1024) };
}

describe("memory event store byte bound", () => {
  it("drops the oldest events once they hold more than maxBytes, however few they are", async () => {
    const store = createMemoryEventStore({ serverId: "s1", capacity: 10_000, maxBytes: 100 * 1024, startSequence: 0 });
    for (let i = 1; i <= 10; i++) store.append(echoCalledDraft(`r${i}`, bigArguments(30)));
    const page = await store.read(0, 100);
    // Three events of 30 KiB fit in 100 KiB; a fourth does not.
    expect(page.events.map((e) => e.requestId)).toEqual(["r8", "r9", "r10"]);
    expect(page.oldestSequence).toBe(8);
    expect(page.newestSequence).toBe(10);
    const held = page.events.reduce((sum, e) => sum + eventBytes(e), 0);
    expect(held).toBeLessThanOrEqual(100 * 1024);
  });

  it("answers a resume from an evicted sequence with out_of_range, as after count eviction", async () => {
    const bus = createEventBus({
      store: createMemoryEventStore({ serverId: "s1", capacity: 10_000, maxBytes: 100 * 1024, startSequence: 0 }),
      heartbeatIntervalMs: 0,
    });
    try {
      for (let i = 1; i <= 10; i++) bus.publish(echoCalledDraft(`r${i}`, bigArguments(30)));
      const error = await bus.subscribe({ afterSequence: 3 }).then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
      expect(error?.code).toBe(Code.OutOfRange);
      expect(error?.rawMessage).toContain("cannot resume after sequence 3: events 4 to 7 are no longer in the replay buffer (it holds events 8 to 10)");
      // Resuming right before the oldest held event still works.
      const resumed = await bus.subscribe({ afterSequence: 7 });
      resumed.close();
    } finally {
      await bus.close();
    }
  });

  it("keeps the newest event even when it alone is larger than maxBytes", async () => {
    const store = createMemoryEventStore({ serverId: "s1", capacity: 10, maxBytes: 4 * 1024, startSequence: 0 });
    store.append(echoCalledDraft("small"));
    store.append(echoCalledDraft("huge", bigArguments(8)));
    const page = await store.read(0, 10);
    expect(page.events.map((e) => e.requestId)).toEqual(["huge"]);
    store.append(echoCalledDraft("after"));
    expect((await store.read(0, 10)).events.map((e) => e.requestId)).toEqual(["after"]);
  });

  it("still bounds by count, the bytes freed by the overwritten event included", async () => {
    const store = createMemoryEventStore({ serverId: "s1", capacity: 3, maxBytes: 70 * 1024, startSequence: 0 });
    for (let i = 1; i <= 6; i++) store.append(echoCalledDraft(`r${i}`, i % 2 === 0 ? bigArguments(30) : undefined));
    // r4 and r6 hold 60 KiB; r5 is small: all three fit by bytes, and the count keeps three.
    expect((await store.read(0, 10)).events.map((e) => e.requestId)).toEqual(["r4", "r5", "r6"]);
  });

  it("refuses a byte bound that is not a whole number ≥ 1", () => {
    expect(() => createMemoryEventStore({ serverId: "s1", maxBytes: 0 })).toThrow("event store byte bound must be a whole number ≥ 1, got 0");
  });
});

describe("event arguments cap", () => {
  it("keeps arguments within the cap and replaces longer ones by a marker holding nothing of them", () => {
    const small = { message: "hello" };
    expect(capEventArguments(small, 1024)).toBe(small);
    const secret = { password: "hunter2", padding: "y".repeat(2000) };
    const capped = capEventArguments(secret, 1024);
    expect(capped).toEqual({ $truncated: { bytes: JSON.stringify(secret).length, maxBytes: 1024 } });
    expect(JSON.stringify(capped)).not.toContain("hunter2");
  });
});
