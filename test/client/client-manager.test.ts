import { Code } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClientManager, createToolwireClient, type ClientManager } from "../../src/client/index.js";
import { defineTool } from "../../src/registry/index.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { createClientTestTools, createRecordingLogger, rejection } from "./client-fixtures.js";

const onlyOnC = defineTool(
  { name: "only_c", version: "1.0.0", description: "Exists on server c alone.", input: { type: "object" } },
  () => ({ server: "c" }),
);

let servers: Record<"a" | "b" | "c", TestServer>;
let manager: ClientManager;
let logger: ReturnType<typeof createRecordingLogger>;

async function serve(name: "a" | "b" | "c", port = 0): Promise<TestServer> {
  const { tools } = createClientTestTools(name, { hold: false });
  return startServer({ tools: name === "c" ? [...tools, onlyOnC] : tools, port });
}

beforeEach(async () => {
  servers = { a: await serve("a"), b: await serve("b"), c: await serve("c") };
  logger = createRecordingLogger();
  manager = createClientManager({ circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 300 }, logger });
  for (const [id, server] of Object.entries(servers)) {
    // Failover is the manager's job here: the clients themselves do not retry.
    manager.addClient(id, createToolwireClient(server.url, { retry: false }));
  }
  const connected = await manager.connectAll();
  expect(Object.values(connected).every((r) => r.ok)).toBe(true);
});

afterEach(async () => {
  await manager.disconnectAll();
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

/** Which server answered each of `n` calls to whoami. */
async function whoAnswers(n: number): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await manager.call("whoami");
    answers.push(String(res.structuredContent?.server));
  }
  return answers;
}

describe("ClientManager", () => {
  it("spreads calls over the servers in turn", async () => {
    const answers = await whoAnswers(6);
    expect([...answers].sort()).toEqual(["a", "a", "b", "b", "c", "c"]);
    // Each server once in every three consecutive calls.
    expect(new Set(answers.slice(0, 3)).size).toBe(3);
    expect(new Set(answers.slice(3, 6)).size).toBe(3);
    expect(Object.values(manager.servers()).map((s) => s.calls)).toEqual([2, 2, 2]);
  });

  it("sends a tool only to the servers that have it", async () => {
    for (let i = 0; i < 4; i++) expect((await manager.call("only_c")).structuredContent).toEqual({ server: "c" });
    const err = await rejection(manager.call("nowhere"));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe('no server has tool "nowhere" (servers: a, b, c)');
  });

  it("fails over when a server is unavailable, trips its circuit, and probes it again later", async () => {
    await servers.b.close();
    const down = await whoAnswers(9);
    // Every call succeeded elsewhere although b was first in line for a third of them.
    expect(down).not.toContain("b");
    expect(manager.servers().b).toMatchObject({ circuit: "open", consecutiveFailures: 3 });
    expect(logger.entries.filter((e) => e.message === "failing over")).toHaveLength(3);
    expect(logger.entries.some((e) => e.message === "circuit opened" && e.fields.server === "b")).toBe(true);

    // While open, b is not even tried: its failure count stands still.
    await whoAnswers(6);
    expect(manager.servers().b).toMatchObject({ circuit: "open", consecutiveFailures: 3 });
    expect(logger.entries.filter((e) => e.message === "failing over")).toHaveLength(3);

    servers.b = await serve("b", servers.b.port);
    await expect.poll(() => manager.servers().b?.circuit, { timeout: 5_000 }).toBe("half_open");
    const back = await whoAnswers(3);
    expect(back).toContain("b");
    expect(manager.servers().b).toMatchObject({ circuit: "closed", consecutiveFailures: 0, healthy: true });
  });

  it("answers unavailable naming every server's reason when none can run the call", async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
    const err = await rejection(manager.call("whoami"));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/^no server could run tool "whoami": a: .+; b: .+; c: .+$/);
  });

  it("passes on an error the server meant, without failing over", async () => {
    const err = await rejection(manager.call("whoami", { unexpected: 1 }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(logger.entries.filter((e) => e.message === "failing over")).toHaveLength(0);
  });

  it("reports connect, health and disconnect per server, a failure hiding none of the others", async () => {
    const gone = await startServer({});
    await gone.close();
    manager.addClient("gone", createToolwireClient(gone.url, { retry: false }));
    expect(() => manager.addClient("a", createToolwireClient(gone.url))).toThrow(/already managed/);
    expect(manager.ids()).toEqual(["a", "b", "c", "gone"]);
    expect(manager.getClient("a")?.url).toBe(servers.a.url);

    const connected = await manager.connectAll();
    expect(connected.a).toEqual({ ok: true, value: undefined });
    expect(connected.c?.ok).toBe(true);
    expect(connected.gone?.ok === false && connected.gone.error.code).toBe(Code.Unavailable);

    const health = await manager.healthCheckAll();
    expect(health.a).toMatchObject({ healthy: true, status: "serving" });
    expect(health.b).toMatchObject({ healthy: true, status: "serving" });
    expect(health.gone).toMatchObject({ healthy: false, status: "unreachable" });
    expect(manager.servers().gone?.healthy).toBe(false);

    expect(await manager.removeClient("gone")).toBe(true);
    expect(await manager.removeClient("gone")).toBe(false);
    const disconnected = await manager.disconnectAll();
    expect(Object.keys(disconnected)).toEqual(["a", "b", "c"]);
    expect(Object.values(disconnected).every((r) => r.ok)).toBe(true);
    expect(Object.values(manager.servers()).map((s) => s.connected)).toEqual([false, false, false]);
  });
});
