import { connect, constants } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EventType, ServerStatus, WatchEventsResponseSchema, type Event } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { ToolwireEvent } from "../../src/events/index.js";
import { eventToBinaryResponse, eventToProto } from "../../src/server/event-convert.js";
import { createMonitoring } from "../../src/server/index.js";
import { defineTool } from "../../src/registry/index.js";
import { echo } from "../../src/tools/echo.js";
import { protocolCases, toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { eventNames, monitorClient, readWatch, startMonitoredServer } from "./monitor-helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startMonitoredServer({ tools: [echo, ...createTestTools().tools] });
});
afterAll(() => server.close());

/** A tool only one test calls, so that concurrent traffic of other tests cannot mix in. */
function privateTool(name: string) {
  return defineTool({ name, version: "1.0.0", description: `test tool ${name}`, input: { type: "object" } }, () => ({ ok: true }));
}

describe.each(protocolCases.map((c) => [c.name, c] as const))("WatchEvents over %s", (_name, protocol) => {
  it("delivers tool_called then tool_succeeded for a call, in order, with increasing sequences", async () => {
    const client = monitorClient(server.url, protocol.transport(server.url));
    const tools = toolClient(server.url);
    const result = await readWatch(
      (signal) => client.watchEvents({ tools: ["echo"] }, { signal }),
      (events) => events.length >= 2,
      (message) => {
        // The opening heartbeat says the subscription is live: now make the call.
        if (message.kind.case === "heartbeat") void tools.callTool({ name: "echo", arguments: { message: "watched" } });
      },
    );
    expect(result.error).toBeUndefined();
    expect(eventNames(result.events)).toEqual(["TOOL_CALLED:echo", "TOOL_SUCCEEDED:echo"]);
    const [called, succeeded] = result.events as [Event, Event];
    expect(succeeded.sequence).toBeGreaterThan(called.sequence);
    expect(succeeded.requestId).toBe(called.requestId);
    expect(succeeded).toMatchObject({ serverId: server.server.serverId, toolVersion: "1.0.0", callerId: "anonymous", code: "ok" });
    expect(succeeded.duration).toBeDefined();
    expect(succeeded.time).toBeDefined();
    // Arguments stay out of events unless the server is configured to include them.
    expect(called.arguments).toBeUndefined();
  });
});

describe("WatchEvents", () => {
  it.each([
    ["gRPC", (url: string) => createGrpcTransport({ baseUrl: url })],
    ["Connect", (url: string) => createConnectTransport({ baseUrl: url, httpVersion: "1.1" })],
  ])("resumes across a dropped connection over %s with no event lost or duplicated", async (_name, transport) => {
    const name = `resume_${_name.toLowerCase()}`;
    server.server.registry.register(privateTool(name));
    const client = monitorClient(server.url, transport(server.url));
    const tools = toolClient(server.url);
    const calls = 40;
    let calling: Promise<unknown> | undefined;
    const first = await readWatch(
      (signal) => client.watchEvents({ tools: [name] }, { signal }),
      (events) => events.length >= 15,
      (message) => {
        if (message.kind.case === "heartbeat" && calling === undefined) {
          calling = (async () => {
            for (let i = 0; i < calls; i++) await tools.callTool({ name });
          })();
        }
      },
    );
    // The connection is gone while calls go on; then resume from the last sequence seen.
    const last = first.events.at(-1) as Event;
    const second = await readWatch(
      (signal) => client.watchEvents({ tools: [name], afterSequence: last.sequence }, { signal }),
      (events) => first.events.length + events.length >= calls * 2,
    );
    await calling;
    const all = [...first.events, ...second.events];
    const sequences = all.map((e) => e.sequence);
    expect(new Set(sequences).size).toBe(sequences.length);
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
    const byRequest = new Map<string, string[]>();
    for (const e of all) byRequest.set(e.requestId, [...(byRequest.get(e.requestId) ?? []), EventType[e.type]]);
    expect(byRequest.size).toBe(calls);
    for (const types of byRequest.values()) expect(types).toEqual(["TOOL_CALLED", "TOOL_SUCCEEDED"]);
  });

  it("answers out_of_range, saying what was lost, when asked for events older than the replay buffer", async () => {
    const small = await startMonitoredServer({ tools: [echo], monitoring: { replayBufferSize: 4 } });
    try {
      const tools = toolClient(small.url);
      for (let i = 0; i < 5; i++) await tools.callTool({ name: "echo", arguments: { message: "x" } });
      const client = monitorClient(small.url, createGrpcTransport({ baseUrl: small.url }));
      const opening = await firstHeartbeat(client);
      const err = await readWatch((signal) => client.watchEvents({ afterSequence: opening - 6n }, { signal }));
      expect(err.error?.code).toBe(Code.OutOfRange);
      expect(err.error?.rawMessage).toBe(
        `cannot resume after sequence ${opening - 6n}: events ${opening - 5n} to ${opening - 4n} are no longer in the replay buffer ` +
          `(it holds events ${opening - 3n} to ${opening}). Resume after ${opening - 4n} to continue past the gap, or with after_sequence 0 for everything held`,
      );
      const info = err.error?.findDetails(ErrorInfoSchema)[0];
      expect(info?.reason).toBe("EVENTS_OUT_OF_RANGE");
      expect(info?.metadata.oldestSequence).toBe(String(opening - 3n));
      // 0 replays everything still held.
      const all = await readWatch((signal) => client.watchEvents({ afterSequence: 0n }, { signal }), (events) => events.length >= 4);
      expect(all.events.map((e) => e.sequence)).toEqual([opening - 3n, opening - 2n, opening - 1n, opening]);
    } finally {
      await small.close();
    }
  });

  it("cuts off a subscriber that falls behind its queue, which then resumes from its last sequence without a loss", async () => {
    const tiny = await startMonitoredServer({ monitoring: { subscriberQueueSize: 4 } });
    try {
      const client = monitorClient(tiny.url, createGrpcTransport({ baseUrl: tiny.url }));
      let resumeFrom = 0n;
      const cut = await readWatch(
        (signal) => client.watchEvents({ types: [EventType.TOOL_REGISTERED] }, { signal }),
        () => false,
        (message) => {
          if (message.kind.case !== "heartbeat") return;
          resumeFrom = message.kind.value.lastSequence;
          // A burst in one tick: the stream cannot take anything until it is over.
          for (let i = 0; i < 50; i++) tiny.server.registry.register(privateTool(`burst_${i}`));
        },
      );
      expect(cut.error?.code).toBe(Code.ResourceExhausted);
      expect(cut.error?.rawMessage).toContain("event subscriber fell behind: 4 events were waiting for it");
      expect(cut.error?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("SUBSCRIBER_TOO_SLOW");
      const resumed = await readWatch(
        (signal) => client.watchEvents({ types: [EventType.TOOL_REGISTERED], afterSequence: resumeFrom }, { signal }),
        (events) => cut.events.length + events.length >= 50,
      );
      expect([...cut.events, ...resumed.events].map((e) => e.toolName)).toEqual(Array.from({ length: 50 }, (_, i) => `burst_${i}`));
    } finally {
      await tiny.close();
    }
  });

  it("cuts off a gRPC client that stops reading (HTTP/2 flow control) and keeps the server's memory bounded", async () => {
    const bounded = await startMonitoredServer({ tools: [echo], monitoring: { subscriberQueueSize: 64 } });
    const session = connect(bounded.url);
    try {
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: "/toolwire.v1.MonitorService/WatchEvents",
        "content-type": "application/grpc",
        te: "trailers",
      });
      // An empty WatchEventsRequest: live events, no filters.
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
      stream.pause();
      // Trailers are not flow-controlled: they may arrive while the data is still unread.
      const trailers = new Promise<Record<string, unknown>>((resolve) => stream.once("trailers", resolve));
      await new Promise((resolve) => stream.once("response", resolve));
      await expect.poll(() => metricValue(bounded.url, "toolwire_event_subscribers")).toBe(1);
      // Far more than the HTTP/2 window (64 KiB) plus the queue (64 events) can hold.
      const caller = { headers: new Headers(), protocol: "test" };
      const signal = new AbortController().signal;
      for (let batch = 0; batch < 40; batch++) {
        const calls = Array.from({ length: 50 }, () =>
          bounded.server.pipeline.call({ name: "echo", arguments: { message: "flood" }, caller, signal }),
        );
        await Promise.all(calls);
      }
      await expect.poll(() => metricValue(bounded.url, "toolwire_event_subscribers_dropped_total")).toBe(1);
      expect(await metricValue(bounded.url, "toolwire_event_subscribers")).toBe(0);
      // The client reads again: what was in flight, then the stream ends with the error.
      const ended = new Promise((resolve) => stream.once("end", resolve));
      stream.resume();
      await ended;
      const received = await trailers;
      expect(received["grpc-status"]).toBe(String(Code.ResourceExhausted));
      expect(decodeURIComponent(String(received["grpc-message"]))).toContain("event subscriber fell behind: 64 events were waiting for it");
    } finally {
      session.destroy();
      await bounded.close();
    }
  });

  it("sends heartbeats on an idle stream, carrying the newest sequence", async () => {
    const beating = await startMonitoredServer({ tools: [echo], monitoring: { heartbeatIntervalMs: 30 } });
    try {
      await toolClient(beating.url).callTool({ name: "echo", arguments: { message: "x" } });
      const lastSequences: bigint[] = [];
      const client = monitorClient(beating.url, createGrpcTransport({ baseUrl: beating.url }));
      const result = await readWatch(
        (signal) => client.watchEvents({}, { signal }),
        () => lastSequences.length >= 3,
        (message) => {
          if (message.kind.case === "heartbeat") lastSequences.push(message.kind.value.lastSequence);
        },
      );
      expect(result.events).toEqual([]);
      expect(new Set(lastSequences).size).toBe(1);
      // server_status serving, tool_called, tool_succeeded.
      expect(lastSequences[0]).toBeGreaterThan(2n);
    } finally {
      await beating.close();
    }
  });

  it("filters by type and reports registrations with the tool's version", async () => {
    const client = monitorClient(server.url);
    const result = await readWatch(
      (signal) => client.watchEvents({ types: [EventType.TOOL_REGISTERED, EventType.TOOL_UNREGISTERED] }, { signal }),
      (events) => events.length >= 2,
      (message) => {
        if (message.kind.case !== "heartbeat") return;
        const tool = server.server.registry.register(privateTool("comes_and_goes"));
        // A call between them is filtered away.
        void toolClient(server.url).callTool({ name: "comes_and_goes" });
        setTimeout(() => server.server.registry.unregister(tool.name), 50);
      },
    );
    expect(eventNames(result.events)).toEqual(["TOOL_REGISTERED:comes_and_goes", "TOOL_UNREGISTERED:comes_and_goes"]);
    expect(result.events[0]).toMatchObject({ toolVersion: "1.0.0", message: 'tool "comes_and_goes" version 1.0.0 registered' });
  });

  it("reports each way a call ends: failed with its code, rate limited, and denied only to watchers who may list the tool", async () => {
    const client = monitorClient(server.url);
    const tools = toolClient(server.url);
    const names = ["refuse", "members", "limited", "nope", "echo"];
    const ignore = () => undefined;
    const result = await readWatch(
      (signal) => client.watchEvents({ tools: names, types: [EventType.TOOL_FAILED, EventType.TOOL_DENIED, EventType.RATE_LIMITED] }, { signal }),
      (events) => events.length >= 4,
      (message) => {
        if (message.kind.case !== "heartbeat") return;
        void (async () => {
          await tools.callTool({ name: "refuse" });
          await tools.callTool({ name: "members" }).catch(ignore);
          for (let i = 0; i < 4; i++) await tools.callTool({ name: "limited" }).catch(ignore);
          await tools.callTool({ name: "nope" }).catch(ignore);
          await tools.callTool({ name: "echo", arguments: { message: 5 } }).catch(ignore);
        })();
      },
    );
    // The anonymous watcher cannot list "members", so its denial is not shown to it
    // (monitor-visibility.test.ts shows denials to those who may list the tool).
    expect(result.events.map((e) => [EventType[e.type], e.toolName, e.code])).toEqual([
      ["TOOL_FAILED", "refuse", "tool_error"],
      ["RATE_LIMITED", "limited", "resource_exhausted"],
      ["TOOL_FAILED", "nope", "not_found"],
      ["TOOL_FAILED", "echo", "invalid_argument"],
    ]);
    // A tool's error text is its answer to one caller, not something every watcher sees.
    expect(result.events[0]?.message).toBe("the tool answered an error result");
    expect(result.events[1]?.message).toContain('rate limit of tool "limited" reached');
  });

  it("includes call arguments only when configured to", async () => {
    const verbose = await startMonitoredServer({ tools: [echo], monitoring: { includeArguments: true } });
    try {
      const client = monitorClient(verbose.url);
      const result = await readWatch(
        (signal) => client.watchEvents({ types: [EventType.TOOL_CALLED] }, { signal }),
        (events) => events.length >= 1,
        (message) => {
          if (message.kind.case === "heartbeat") void toolClient(verbose.url).callTool({ name: "echo", arguments: { message: "shown" } });
        },
      );
      expect(result.events[0]?.arguments).toEqual({ message: "shown", uppercase: false });
    } finally {
      await verbose.close();
    }
  });

  it("bounds the replay buffer in bytes: the oldest events go, and resuming before them answers out_of_range", async () => {
    const small = await startMonitoredServer({ tools: [echo], monitoring: { includeArguments: true, replayBufferBytes: 256 * 1024 } });
    try {
      const tools = toolClient(small.url);
      const message = "x".repeat(40 * 1024);
      // 10 calls of 40 KiB arguments: far fewer events than the count bound, far more bytes than 256 KiB.
      for (let i = 0; i < 10; i++) await tools.callTool({ name: "echo", arguments: { message } });
      const client = monitorClient(small.url, createGrpcTransport({ baseUrl: small.url }));
      const opening = await firstHeartbeat(client);
      // Stops at the newest event should the replay (wrongly) succeed, rather than tail forever.
      const err = await readWatch(
        (signal) => client.watchEvents({ afterSequence: opening - 20n }, { signal }),
        (events) => events.at(-1)?.sequence === opening,
      );
      expect(err.error?.code).toBe(Code.OutOfRange);
      expect(err.error?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("EVENTS_OUT_OF_RANGE");
      const held = await readWatch(
        (signal) => client.watchEvents({ afterSequence: 0n }, { signal }),
        (events) => events.at(-1)?.sequence === opening,
      );
      // About 6 calls' arguments fit in 256 KiB: the newest few are held, the rest went.
      const calls = held.events.filter((e) => e.type === EventType.TOOL_CALLED).length;
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThan(7);
    } finally {
      await small.close();
    }
  });

  it("replaces arguments longer than maxEventArgumentBytes by a marker", async () => {
    const verbose = await startMonitoredServer({ tools: [echo], monitoring: { includeArguments: true, maxEventArgumentBytes: 1024 } });
    try {
      const client = monitorClient(verbose.url);
      const message = "y".repeat(2000);
      const result = await readWatch(
        (signal) => client.watchEvents({ types: [EventType.TOOL_CALLED] }, { signal }),
        (events) => events.length >= 1,
        (m) => {
          if (m.kind.case === "heartbeat") void toolClient(verbose.url).callTool({ name: "echo", arguments: { message } });
        },
      );
      const bytes = JSON.stringify({ message, uppercase: false }).length;
      expect(result.events[0]?.arguments).toEqual({ $truncated: { bytes, maxBytes: 1024 } });
    } finally {
      await verbose.close();
    }
  });

  it("rejects an unknown event type with invalid_argument", async () => {
    const result = await readWatch((signal) => monitorClient(server.url).watchEvents({ types: [42 as EventType] }, { signal }));
    expect(result.error?.code).toBe(Code.InvalidArgument);
    expect(result.error?.rawMessage).toBe("unknown event type 42 in types");
  });

  it("ends WatchEvents streams with unavailable as soon as shutdown starts, after telling them the server is draining", async () => {
    const test = createTestTools();
    const closing = await startMonitoredServer({ tools: test.tools });
    const client = monitorClient(closing.url, createGrpcTransport({ baseUrl: closing.url }));
    let call: Promise<unknown> | undefined;
    let stopping: Promise<void> | undefined;
    const order: string[] = [];
    const result = await readWatch(
      (signal) => client.watchEvents({}, { signal }),
      () => false,
      (message) => {
        if (message.kind.case === "heartbeat" && call === undefined) {
          call = toolClient(closing.url)
            .callTool({ name: "hang" })
            .catch((err: unknown) => ConnectError.from(err))
            .finally(() => order.push("call ended"));
        }
        if (message.kind.case === "event" && message.kind.value.type === EventType.TOOL_CALLED) {
          stopping = closing.close(1_000);
        }
      },
    );
    order.push("stream ended");
    await call;
    await stopping;
    expect(result.error?.code).toBe(Code.Unavailable);
    expect(result.error?.rawMessage).toContain("server is shutting down");
    const last = result.events.at(-1);
    expect(last?.type).toBe(EventType.SERVER_STATUS);
    expect(last?.status).toBe(ServerStatus.DRAINING);
    // The stream did not wait for the running call to drain.
    expect(order).toEqual(["stream ended", "call ended"]);
  });
});

describe("createMonitoring", () => {
  it.each([
    [{ replayBufferSize: 0 }, "monitoring option replayBufferSize must be a whole number ≥ 1, got 0"],
    [{ subscriberQueueSize: 1.5 }, "monitoring option subscriberQueueSize must be a whole number ≥ 1, got 1.5"],
    [{ heartbeatIntervalMs: -1 }, "monitoring option heartbeatIntervalMs must be a whole number ≥ 0, got -1"],
    [{ replayBufferBytes: 100 }, "monitoring option replayBufferBytes must be a whole number ≥ 1024, got 100"],
    [{ maxEventArgumentBytes: 1.5 }, "monitoring option maxEventArgumentBytes must be a whole number ≥ 64, got 1.5"],
  ])("refuses %j with a message naming the option", (options, message) => {
    expect(() => createMonitoring(options)).toThrow(message);
  });
});

describe("event encoding", () => {
  it("encodes an event once for all binary subscribers, byte for byte the message with `event` set", () => {
    const event: ToolwireEvent = {
      sequence: 1_795_000_000_000_001,
      time: 1_795_000_000_000,
      serverId: "s1",
      type: "tool_failed",
      toolName: "echo",
      toolVersion: "1.0.0",
      callerId: "bob",
      requestId: "r-1",
      code: "invalid_argument",
      message: "bad",
      durationMs: 1.5,
      status: undefined,
      arguments: { message: "x" },
    };
    const shared = eventToBinaryResponse(event);
    expect(eventToBinaryResponse(event)).toBe(shared);
    const expected = create(WatchEventsResponseSchema, { kind: { case: "event", value: eventToProto(event) } });
    expect(toBinary(WatchEventsResponseSchema, shared)).toEqual(toBinary(WatchEventsResponseSchema, expected));
    const decoded = fromBinary(WatchEventsResponseSchema, toBinary(WatchEventsResponseSchema, shared));
    expect(decoded.kind.case === "event" && decoded.kind.value.sequence).toBe(1_795_000_000_000_001n);
  });
});

describe("GetServerInfo", () => {
  it("says who the server is, what it serves and that it is serving", async () => {
    const info = await monitorClient(server.url).getServerInfo({});
    expect(info).toMatchObject({
      serverId: server.server.serverId,
      status: ServerStatus.SERVING,
      statusReason: "",
      url: server.url,
      protocols: ["connect", "grpc", "grpc-web", "sse"],
      toolCount: server.server.registry.size,
      peers: [],
    });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.startTime).toBeDefined();
    expect(info.uptime).toBeDefined();
  });

  it("answers a Connect GET, since it has no side effects", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.MonitorService/GetServerInfo?encoding=json&message=%7B%7D`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ serverId: server.server.serverId, status: "SERVER_STATUS_SERVING" });
  });
});

/** The sequence the opening heartbeat of a new stream reports (the newest event). */
async function firstHeartbeat(client: ReturnType<typeof monitorClient>): Promise<bigint> {
  let sequence: bigint | undefined;
  await readWatch(
    (signal) => client.watchEvents({}, { signal }),
    () => sequence !== undefined,
    (message) => {
      if (message.kind.case === "heartbeat") sequence = message.kind.value.lastSequence;
    },
  );
  if (sequence === undefined) throw new Error("no heartbeat");
  return sequence;
}

/** One unlabelled sample of the server's /metrics. */
async function metricValue(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
