import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { EventType } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { echo } from "../../src/tools/echo.js";
import { monitorClient, readWatch, startMonitoredServer } from "./monitor-helpers.js";

const maxStreamDurationMs = 1_000;

let server: TestServer;
beforeAll(async () => {
  server = await startMonitoredServer({ tools: [echo, ...createTestTools().tools], maxStreamDurationMs });
});
afterAll(() => server.close());

describe("the maximum stream duration on long-lived monitoring streams", () => {
  it("ends WatchEvents with unavailable, and a watch resumed from the last sequence loses nothing", async () => {
    const calls = toolClient(server.url);
    await calls.callTool({ name: "echo", arguments: { message: "before the cut" } });
    const started = Date.now();
    const first = await readWatch((signal) => monitorClient(server.url).watchEvents({ afterSequence: 0n, tools: ["echo"] }, { signal }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(maxStreamDurationMs - 50);
    expect(first.error?.code).toBe(Code.Unavailable);
    expect(first.error?.rawMessage).toBe(
      `the stream reached the server's maximum duration (${maxStreamDurationMs} ms); watch again with after_sequence set to the last sequence received`,
    );

    await calls.callTool({ name: "echo", arguments: { message: "after the cut" } });
    const last = first.events.at(-1)?.sequence ?? 0n;
    const resumed = await readWatch(
      (signal) => monitorClient(server.url).watchEvents({ afterSequence: last, tools: ["echo"] }, { signal }),
      (events) => events.some((e) => e.type === EventType.TOOL_SUCCEEDED),
    );
    expect(first.events.map((e) => e.type)).toEqual([EventType.TOOL_CALLED, EventType.TOOL_SUCCEEDED]);
    expect(resumed.error).toBeUndefined();
    expect(resumed.events.map((e) => e.type)).toEqual([EventType.TOOL_CALLED, EventType.TOOL_SUCCEEDED]);
    expect(resumed.events[0]?.sequence).toBeGreaterThan(last);
  });

  it("ends GET /events with an unavailable stream_error the client can resume from", async () => {
    const res = await fetch(`${server.url}/events?after_sequence=0`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const errorEvent = /event: stream_error\ndata: (.*)\n/.exec(text)?.[1];
    expect(errorEvent).toBeDefined();
    expect(JSON.parse(errorEvent ?? "{}")).toEqual({
      code: "unavailable",
      message: `the stream reached the server's maximum duration (${maxStreamDurationMs} ms); reconnect with Last-Event-ID set to the last id received`,
    });
  });

  it("ends a health Watch with unavailable while the server keeps serving", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const statuses: number[] = [];
    const err = await (async () => {
      for await (const message of health.watch({ service: "" })) statuses.push(message.status);
    })().catch((e: unknown) => ConnectError.from(e));
    expect(statuses).toEqual([ServingStatus.SERVING]);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
  });
});
