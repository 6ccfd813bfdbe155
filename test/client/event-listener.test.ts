import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { EventType, type Event } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import {
  createToolwireClient,
  type ConnectionStatus,
  type EventGap,
  type ToolwireClient,
  type ToolwireClientOptions,
} from "../../src/client/index.js";
import { createMonitoring, type MonitoringOptions } from "../../src/server/monitoring.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { clientProtocolCases, createClientTestTools, testAuthenticator } from "./client-fixtures.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const servers: TestServer[] = [];
const clients: ToolwireClient[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(port = 0, monitoring: MonitoringOptions = {}): Promise<TestServer> {
  const { tools } = createClientTestTools("events");
  const server = await startServer({
    tools,
    port,
    authenticate: testAuthenticator,
    extensions: [createMonitoring({ processMetrics: false, logCalls: false, ...monitoring })],
  });
  servers.push(server);
  return server;
}

function client(url: string, options: ToolwireClientOptions = {}): ToolwireClient {
  const c = createToolwireClient(url, options);
  clients.push(c);
  return c;
}

/** A listener that records what it is told. */
function recorder() {
  const events: Event[] = [];
  const statuses: ConnectionStatus[] = [];
  const gaps: EventGap[] = [];
  const typed = { called: [] as Event[], results: [] as Event[], errors: [] as Event[] };
  return {
    events,
    statuses,
    gaps,
    typed,
    listener: {
      onEvent: (e: Event) => void events.push(e),
      onToolCalled: (e: Event) => void typed.called.push(e),
      onToolResult: (e: Event) => void typed.results.push(e),
      onToolError: (e: Event) => void typed.errors.push(e),
      onConnectionStatus: (c: { status: ConnectionStatus }) => void statuses.push(c.status),
      onGap: (g: EventGap) => void gaps.push(g),
    },
    /** Sequences of the events received, in order. */
    sequences: () => events.map((e) => e.sequence),
    /** Request ids of the tool_succeeded events received. */
    succeeded: () => events.filter((e) => e.type === EventType.TOOL_SUCCEEDED).map((e) => e.requestId),
  };
}

const fast = { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } } as const;

describe.each(clientProtocolCases)("event listener over $name", ({ options }) => {
  it("delivers each call's events to the typed callbacks", async () => {
    const server = await serve();
    const rec = recorder();
    // An authenticated reader: events of "members" (authenticated) reach only readers who may list it.
    const watcher = client(server.url, { ...options, apiKey: "reader|authenticated" });
    watcher.addEventListener(rec.listener);
    await watcher.connect();
    await expect.poll(() => rec.statuses).toEqual(["connecting", "connected"]);

    const c = client(server.url, options);
    const ok = await c.callTool("whoami");
    await c.callTool("whoami", { unexpected: true }).catch(() => undefined);
    await c.callTool("members").catch(() => undefined);

    await expect.poll(() => rec.typed.errors.length).toBe(2);
    expect(rec.typed.called.map((e) => e.toolName)).toEqual(["whoami"]);
    expect(rec.typed.results.map((e) => [e.toolName, e.requestId, e.code])).toEqual([["whoami", ok.requestId, "ok"]]);
    expect(rec.typed.errors.map((e) => [e.type, e.toolName, e.code])).toEqual([
      [EventType.TOOL_FAILED, "whoami", "invalid_argument"],
      [EventType.TOOL_DENIED, "members", "unauthenticated"],
    ]);
    // Sequences only grow.
    const seqs = rec.sequences();
    expect([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe("event listener reconnection", () => {
  it.each([clientProtocolCases[1], clientProtocolCases[3], clientProtocolCases[4]])(
    "resumes after a dropped connection with no event lost or delivered twice ($name)",
    async (c) => {
      const server = await serve();
      const proxy = await startTcpProxy(server.port);
      proxies.push(proxy);
      const direct = client(server.url);
      const reference = recorder();
      direct.addEventListener(reference.listener, { tools: ["whoami"] });
      await direct.connect();

      const rec = recorder();
      const watcher = client(proxy.url, c?.options);
      watcher.addEventListener(rec.listener, { tools: ["whoami"], ...fast });
      await watcher.connect();
      await expect.poll(() => rec.statuses).toEqual(["connecting", "connected"]);
      await expect.poll(() => reference.statuses).toEqual(["connecting", "connected"]);

      const before = [];
      for (let i = 0; i < 5; i++) before.push((await direct.callTool("whoami")).requestId);
      await expect.poll(() => rec.succeeded()).toEqual(before);

      proxy.cut();
      await expect.poll(() => rec.statuses.at(-1)).toBe("reconnecting");
      const during = [];
      for (let i = 0; i < 5; i++) during.push((await direct.callTool("whoami")).requestId);
      proxy.restore();
      await expect.poll(() => rec.statuses.at(-1), { timeout: 5_000 }).toBe("connected");
      const after = [];
      for (let i = 0; i < 5; i++) after.push((await direct.callTool("whoami")).requestId);

      await expect.poll(() => rec.succeeded(), { timeout: 5_000 }).toEqual([...before, ...during, ...after]);
      await expect.poll(() => reference.succeeded()).toEqual([...before, ...during, ...after]);
      // Exactly the events a listener that never lost its connection saw, in the same order.
      expect(rec.sequences()).toEqual(reference.sequences());
      expect(rec.statuses).toEqual(["connecting", "connected", "reconnecting", "connected"]);
      expect(rec.gaps).toEqual([]);
    },
  );

  it("tells the listener of the gap when the server restarted and lost its events, then goes on", async () => {
    const first = await serve();
    const rec = recorder();
    const c = client(first.url);
    c.addEventListener(rec.listener, fast);
    await c.connect();
    await expect.poll(() => rec.statuses).toEqual(["connecting", "connected"]);
    const before = await c.callTool("whoami");
    await expect.poll(() => rec.succeeded()).toEqual([before.requestId]);

    await first.close();
    await expect.poll(() => rec.statuses.at(-1)).toBe("reconnecting");
    const lastBefore = rec.events.at(-1)?.sequence;
    await serve(first.port);
    await expect.poll(() => rec.gaps.length, { timeout: 5_000 }).toBe(1);
    expect(rec.gaps[0]?.afterSequence).toBe(lastBefore);
    expect(rec.gaps[0]?.error.code).toBe(Code.OutOfRange);

    const after = await c.callTool("whoami");
    await expect.poll(() => rec.succeeded(), { timeout: 5_000 }).toEqual([before.requestId, after.requestId]);
    expect(rec.statuses).toEqual(["connecting", "connected", "reconnecting", "connected"]);
    // The restarted server's own events came through too: it announced that it is serving.
    expect(rec.events.some((e) => e.type === EventType.SERVER_STATUS && e.sequence > (lastBefore ?? 0n))).toBe(true);
  });
});

describe("event listener failures and lifecycle", () => {
  it("ends with status failed when the server refuses the watch for good", async () => {
    const server = await serve(0, { access: { events: "admin" } });
    const statuses: { status: ConnectionStatus; code?: Code }[] = [];
    const c = client(server.url, { apiKey: "eve|authenticated" });
    c.addEventListener({ onConnectionStatus: (s) => void statuses.push({ status: s.status, code: s.error?.code }) }, fast);
    await c.connect();
    await expect.poll(() => statuses.at(-1)).toEqual({ status: "failed", code: Code.PermissionDenied });
    expect(statuses.map((s) => s.status)).toEqual(["connecting", "failed"]);
  });

  it("gives up after the configured number of failed attempts", async () => {
    const server = await serve();
    const statuses: ConnectionStatus[] = [];
    const c = client(server.url);
    c.addEventListener({ onConnectionStatus: (s) => void statuses.push(s.status) }, { reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 } });
    await c.connect();
    await expect.poll(() => statuses).toEqual(["connecting", "connected"]);
    await server.close();
    await expect.poll(() => statuses.at(-1), { timeout: 5_000 }).toBe("failed");
    expect(statuses).toEqual(["connecting", "connected", "reconnecting", "failed"]);
  });

  it("stops delivering once removed, and reports disconnected", async () => {
    const server = await serve();
    const rec = recorder();
    const c = client(server.url);
    const remove = c.addEventListener(rec.listener);
    await c.connect();
    await expect.poll(() => rec.statuses).toEqual(["connecting", "connected"]);
    await remove();
    expect(rec.statuses).toEqual(["connecting", "connected", "disconnected"]);
    const count = rec.events.length;
    await c.callTool("whoami");
    // A listener still subscribed sees the call's events; the removed one must not.
    const other = recorder();
    c.addEventListener(other.listener, { afterSequence: 0n });
    await expect.poll(() => other.succeeded().length).toBe(1);
    expect(rec.events.length).toBe(count);
  });

  it("lets a process with a connected listener exit once the client disconnects", async () => {
    const server = await serve();
    const script = join(import.meta.dirname, "fixtures/listen-then-disconnect.ts");
    const tsx = join(import.meta.dirname, "../../node_modules/.bin/tsx");
    // The child exits by itself only if disconnect() closed the event stream and its connection.
    const run = await promisify(execFile)(tsx, [script, server.url], { timeout: 20_000 }).then(
      ({ stdout }) => ({ stdout, failure: undefined }),
      (err: { stdout?: string; stderr?: string; killed?: boolean; code?: unknown }) => ({
        stdout: err.stdout ?? "",
        failure: `child ${err.killed === true ? "killed after 20 s" : `exited with ${String(err.code)}`}: ${err.stderr ?? ""}`,
      }),
    );
    expect(run.failure).toBeUndefined();
    expect(run.stdout.trim().split("\n")).toEqual(["connecting", "connected", "disconnected"]);
  });
});
