import { execFile, spawn } from "node:child_process";
import { connect, constants } from "node:http2";
import { promisify } from "node:util";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineTool } from "../../src/registry/index.js";
import { echo } from "../../src/tools/echo.js";
import { toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { startMonitoredServer } from "./monitor-helpers.js";

const run = promisify(execFile);

let server: TestServer;
beforeAll(async () => {
  server = await startMonitoredServer({ tools: [echo, ...createTestTools().tools] });
});
afterAll(() => server.close());

/** One parsed Server-Sent Event. */
interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** Parses SSE text into events; comments (heartbeats) and retry lines are left out. */
function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split("\n\n")) {
    const fields = new Map<string, string>();
    for (const line of block.split("\n")) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
    }
    const data = fields.get("data");
    if (data !== undefined) events.push({ id: fields.get("id") ?? "", event: fields.get("event") ?? "message", data: JSON.parse(data) as Record<string, unknown> });
  }
  return events;
}

function privateTool(name: string) {
  return defineTool({ name, version: "1.0.0", description: `test tool ${name}`, input: { type: "object" } }, () => ({ ok: true }));
}

async function callTimes(name: string, times: number): Promise<void> {
  const tools = toolClient(server.url);
  for (let i = 0; i < times; i++) await tools.callTool({ name });
}

describe("GET /events", () => {
  it("streams events to curl -N with id, event and data lines, and ends after `limit` events", async () => {
    server.server.registry.register(privateTool("sse_limit"));
    await callTimes("sse_limit", 2);
    const { stdout } = await run("curl", ["-sSN", `${server.url}/events?after_sequence=0&tools=sse_limit&limit=4`], { timeout: 10_000 });
    expect(stdout.startsWith("retry: 1000\n\n: heartbeat last_sequence=")).toBe(true);
    const events = parseSse(stdout);
    expect(events.map((e) => e.event)).toEqual(["tool_registered", "tool_called", "tool_succeeded", "tool_called"]);
    for (const e of events) {
      expect(e.id).toBe(e.data.sequence);
      expect(e.data).toMatchObject({ toolName: "sse_limit", serverId: server.server.serverId });
    }
    expect(events[2]?.data).toMatchObject({ type: "EVENT_TYPE_TOOL_SUCCEEDED", code: "ok" });
  });

  it("tails live events to curl -N; after the connection drops, Last-Event-ID resumes with nothing lost or repeated", async () => {
    server.server.registry.register(privateTool("sse_live"));
    const curl = spawn("curl", ["-sSN", `${server.url}/events?tools=sse_live`], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let calling: Promise<void> | undefined;
    const calls = 20;
    const dropped = new Promise<void>((resolve, reject) => {
      curl.on("error", reject);
      curl.stdout.setEncoding("utf8");
      curl.stdout.on("data", (chunk: string) => {
        output += chunk;
        // The heartbeat says the stream is live: start calling.
        if (calling === undefined && output.includes(": heartbeat")) calling = callTimes("sse_live", calls);
        if (parseSse(output).length >= 10) {
          // Drop the connection mid-stream, as a network failure would.
          curl.kill("SIGKILL");
          resolve();
        }
      });
    });
    await dropped;
    await calling;
    const first = parseSse(output);
    const lastId = first.at(-1)?.id ?? "";
    const { stdout } = await run(
      "curl",
      ["-sSN", "-H", `Last-Event-ID: ${lastId}`, `${server.url}/events?tools=sse_live&limit=${calls * 2 - first.length}`],
      { timeout: 10_000 },
    );
    const all = [...first, ...parseSse(stdout)];
    const ids = all.map((e) => BigInt(e.id));
    expect(new Set(ids).size).toBe(calls * 2);
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    const requests = new Map<unknown, string[]>();
    for (const e of all) requests.set(e.data.requestId, [...(requests.get(e.data.requestId) ?? []), e.event]);
    expect([...requests.values()]).toEqual(Array.from({ length: calls }, () => ["tool_called", "tool_succeeded"]));
  });

  it("works with an EventSource client, which reconnects by itself with Last-Event-ID and misses nothing", async () => {
    server.server.registry.register(privateTool("sse_browser"));
    await callTimes("sse_browser", 5);
    // limit=4 makes the server end the response after every 4 events: each end is a reconnect.
    const source = new EventSource(`${server.url}/events?after_sequence=0&tools=sse_browser&limit=4`);
    const received: { type: string; id: string; data: Record<string, unknown> }[] = [];
    let opens = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        source.addEventListener("open", () => opens++);
        for (const type of ["tool_called", "tool_succeeded"]) {
          source.addEventListener(type, (event) => {
            received.push({ type, id: event.lastEventId, data: JSON.parse(event.data) as Record<string, unknown> });
            if (received.length === 10) resolve();
          });
        }
        source.addEventListener("error", (event) => {
          // Reconnecting after the server ends a response is expected; a closed source is not.
          if (source.readyState === EventSource.CLOSED) reject(new Error(`EventSource closed: ${event.message ?? ""}`));
        });
      });
    } finally {
      source.close();
    }
    expect(opens).toBe(3);
    expect(received.map((e) => e.type)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? "tool_called" : "tool_succeeded")));
    const ids = received.map((e) => BigInt(e.id));
    expect(ids.slice(1).every((id, i) => id === (ids[i] as bigint) + 1n)).toBe(true);
    expect(received.every((e) => e.data.toolName === "sse_browser")).toBe(true);
  });

  it("filters by types (snake_case or protobuf names) and tools", async () => {
    server.server.registry.register(privateTool("sse_filter"));
    await callTimes("sse_filter", 2);
    await toolClient(server.url).callTool({ name: "refuse" });
    const { stdout } = await run(
      "curl",
      ["-sSN", `${server.url}/events?after_sequence=0&types=tool_succeeded,EVENT_TYPE_TOOL_FAILED&tools=sse_filter&tools=refuse&limit=3`],
      { timeout: 10_000 },
    );
    expect(parseSse(stdout).map((e) => `${e.event}:${String(e.data.toolName)}`)).toEqual([
      "tool_succeeded:sse_filter",
      "tool_succeeded:sse_filter",
      "tool_failed:refuse",
    ]);
  });

  it.each([
    ["types=bogus", 400, "invalid_argument", 'unknown event type "bogus"; use tool_called, tool_succeeded, tool_failed, tool_denied, rate_limited, tool_registered, tool_unregistered, server_status'],
    ["after_sequence=-1", 400, "invalid_argument", 'after_sequence must be an event sequence number (digits), got "-1"'],
    ["limit=0", 400, "invalid_argument", 'limit must be a whole number from 1 to 1000000, got "0"'],
    ["tool=echo", 400, "invalid_argument", 'unknown query parameter "tool"; /events accepts types, tools, after_sequence and limit'],
    ["after_sequence=5", 400, "out_of_range", "cannot resume after sequence 5: events 6 to "],
  ])("answers ?%s with %i and a JSON error before streaming anything", async (query, status, code, message) => {
    const res = await fetch(`${server.url}/events?${query}`);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe(code);
    expect(body.message).toContain(message);
  });

  it("refuses methods other than GET with 405", async () => {
    const res = await fetch(`${server.url}/events`, { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });

  it("serves the same stream over HTTP/2", async () => {
    const session = connect(server.url);
    try {
      const stream = session.request({ [constants.HTTP2_HEADER_PATH]: "/events?after_sequence=0&types=server_status&limit=1" });
      const headers = await new Promise<Record<string, unknown>>((resolve) => stream.once("response", resolve));
      let text = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => (text += chunk));
      await new Promise((resolve) => stream.once("end", resolve));
      expect(headers[":status"]).toBe(200);
      expect(headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      expect(parseSse(text).map((e) => [e.event, e.data.status])).toEqual([["server_status", "SERVER_STATUS_SERVING"]]);
    } finally {
      session.close();
    }
  });

  it("ends a stream that falls behind with a stream_error event naming resource_exhausted", async () => {
    const tiny = await startMonitoredServer({ monitoring: { subscriberQueueSize: 2 } });
    try {
      const curl = spawn("curl", ["-sSN", `${tiny.url}/events`], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      curl.stdout.setEncoding("utf8");
      const exited = new Promise<number | null>((resolve) => curl.once("close", resolve));
      curl.stdout.on("data", (chunk: string) => (output += chunk));
      await expect.poll(() => output.includes(": heartbeat")).toBe(true);
      for (let i = 0; i < 20; i++) tiny.server.registry.register(privateTool(`sse_burst_${i}`));
      expect(await exited).toBe(0);
      const errors = parseSse(output).filter((e) => e.event === "stream_error");
      expect(errors).toHaveLength(1);
      expect(errors[0]?.data.code).toBe("resource_exhausted");
      expect(String(errors[0]?.data.message)).toContain("event subscriber fell behind: 2 events were waiting for it");
    } finally {
      await tiny.close();
    }
  });

  it("ends its streams when shutdown starts, after the draining status event", async () => {
    const closing = await startMonitoredServer({});
    const curl = spawn("curl", ["-sSN", `${closing.url}/events?types=server_status`], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    curl.stdout.setEncoding("utf8");
    curl.stdout.on("data", (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => curl.once("close", resolve));
    await expect.poll(() => output.includes(": heartbeat")).toBe(true);
    await closing.close(5_000);
    expect(await exited).toBe(0);
    const events = parseSse(output);
    expect(events.map((e) => [e.event, e.data.status ?? e.data.code])).toEqual([
      ["server_status", "SERVER_STATUS_DRAINING"],
      ["stream_error", "unavailable"],
    ]);
  });
});
