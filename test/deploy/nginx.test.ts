import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { MonitorService, StatsScope } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { freePort } from "../helpers/ports.js";
import { killChild } from "../helpers/processes.js";
import { spawnServe, type ServeProcess } from "../helpers/serve-process.js";
import { startNginx, type TestNginx } from "./nginx.js";

/** Starts `toolwire serve` on a fixed port, sharing Redis and trusting nginx (on loopback) as its balancer. */
async function serveOn(port: number, redisUrl: string): Promise<ServeProcess> {
  return spawnServe(["--port", String(port), "--shutdown-grace-ms", "5000", "--trusted-proxy", "127.0.0.1"], { TOOLWIRE_REDIS_URL: redisUrl });
}

/** Echo calls an instance has answered, asked of the instance itself. */
async function echoCalls(url: string): Promise<bigint> {
  const stats = await createClient(MonitorService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })).getStats({});
  return stats.tools.find((tool) => tool.name === "echo")?.calls ?? 0n;
}

type LoadProtocol = "connect" | "grpcWeb" | "grpc";

/** Calls echo through nginx over Connect and gRPC-Web (HTTP/1.1) and gRPC (h2c), `perProtocol` workers each, until stopped. */
function load(nginx: TestNginx, protocols: readonly LoadProtocol[], perProtocol: number) {
  let running = true;
  const tally = { connect: 0, grpcWeb: 0, grpc: 0, failed: [] as string[] };
  const transports = (
    [
      ["connect", createConnectTransport({ baseUrl: nginx.httpUrl, httpVersion: "1.1" })],
      ["grpcWeb", createGrpcWebTransport({ baseUrl: nginx.httpUrl, httpVersion: "1.1" })],
      ["grpc", createGrpcTransport({ baseUrl: nginx.grpcUrl })],
    ] as const
  ).filter(([name]) => protocols.includes(name));
  const workers = transports.flatMap(([name, transport]) =>
    Array.from({ length: perProtocol }, async () => {
      const client = createClient(ToolService, transport);
      for (let i = 0; running; i++) {
        try {
          const res = await client.callTool({ name: "echo", arguments: { message: `${name} ${i}` } });
          if (res.isError) tally.failed.push(`${name}: tool error`);
          else tally[name]++;
        } catch (err) {
          tally.failed.push(`${name}: ${String(err)}`);
        }
      }
    }),
  );
  return {
    tally,
    total: () => tally.connect + tally.grpcWeb + tally.grpc,
    async stop() {
      running = false;
      await Promise.all(workers);
      return tally;
    },
  };
}

describe("nginx in front of several instances", () => {
  let redis: TestRedis;
  const instances: ServeProcess[] = [];
  let nginx: TestNginx | undefined;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await nginx?.stop();
    nginx = undefined;
    for (const instance of instances.splice(0)) await killChild(instance.child, "SIGKILL");
  });
  afterAll(() => redis.stop());

  it("serves Connect over HTTP/1.1 and gRPC over h2c through nginx, spread over the instances", async () => {
    const ports = [await freePort(), await freePort()];
    for (const port of ports) instances.push(await serveOn(port, redis.url));
    const proxy = await startNginx(ports);
    nginx = proxy;
    const servedBy = new Set<string>();
    for (const transport of [createConnectTransport({ baseUrl: proxy.httpUrl, httpVersion: "1.1" }), createGrpcTransport({ baseUrl: proxy.grpcUrl })]) {
      const tools = createClient(ToolService, transport);
      const monitor = createClient(MonitorService, transport);
      for (let i = 0; i < 4; i++) {
        expect((await tools.callTool({ name: "echo", arguments: { message: "hi" } })).isError).toBe(false);
        servedBy.add((await monitor.getServerInfo({})).serverId);
      }
    }
    // Round robin: both instances answered.
    expect(servedBy.size).toBe(2);
  });

  /**
   * Restarts every instance in turn under load through nginx, as an operator would: SIGTERM, wait
   * for exit 0, start again on the same port, and go on only once nginx sends it calls again.
   */
  async function rollingRestart(protocols: readonly LoadProtocol[]) {
    const ports = [await freePort(), await freePort()];
    for (const port of ports) instances.push(await serveOn(port, redis.url));
    const proxy = await startNginx(ports);
    nginx = proxy;
    const traffic = load(proxy, protocols, 4);
    await expect.poll(() => traffic.total(), { timeout: 20_000 }).toBeGreaterThan(100);
    for (let i = 0; i < ports.length; i++) {
      const old = instances[i] as ServeProcess;
      await killChild(old.child, "SIGTERM");
      expect(old.child.exitCode).toBe(0);
      const before = traffic.total();
      await expect.poll(() => traffic.total(), { timeout: 20_000 }).toBeGreaterThan(before + 50);
      const restarted = await serveOn(ports[i] as number, redis.url);
      instances[i] = restarted;
      // nginx marked the stopped instance down; it takes calls again once fail_timeout has passed.
      await expect.poll(() => echoCalls(restarted.url), { timeout: 20_000 }).toBeGreaterThan(20n);
    }
    const tally = await traffic.stop();
    // A refused connect to a stopped instance is logged and retried: only the rest explains a failure.
    const unexpected = (await proxy.errorLog()).split("\n").filter((line) => line !== "" && !line.includes("(111: Connection refused)"));
    return { tally, log: unexpected.join("\n") };
  }

  it("loses no Connect or gRPC-Web call while every instance restarts in turn under load: a draining instance closes nginx's connection unanswered and nginx retries elsewhere", async () => {
    const { tally, log } = await rollingRestart(["connect", "grpcWeb"]);
    expect(tally.failed, log).toEqual([]);
    expect(tally.connect).toBeGreaterThan(150);
    expect(tally.grpcWeb).toBeGreaterThan(150);
  }, 120_000);

  it("loses no gRPC call while every instance restarts in turn under load: nginx's new connections are refused and its open ones are retired, not cut", async () => {
    const { tally, log } = await rollingRestart(["grpc"]);
    expect(tally.failed, log).toEqual([]);
    expect(tally.grpc).toBeGreaterThan(300);
  }, 120_000);

  it("passes the instances' own unavailable answers to the client and keeps every instance in rotation", async () => {
    // Redis of their own, stopped below: cluster statistics are then unavailable on every instance.
    const own = await startRedis();
    try {
      const ports = [await freePort(), await freePort()];
      for (const port of ports) instances.push(await serveOn(port, own.url));
      const proxy = await startNginx(ports);
      nginx = proxy;
      await own.stop();
      const transport = createConnectTransport({ baseUrl: proxy.httpUrl, httpVersion: "1.1" });
      const monitor = createClient(MonitorService, transport);
      const tools = createClient(ToolService, transport);
      for (let i = 0; i < 6; i++) {
        const refusal = await monitor.getStats({ scope: StatsScope.CLUSTER }).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(refusal?.code).toBe(Code.Unavailable);
        expect(refusal?.rawMessage).toMatch(/^cluster statistics are unavailable: .*STATS_SCOPE_INSTANCE still answers$/);
        // Had nginx counted the 503s, both instances would be out now and it would answer 502.
        expect((await tools.callTool({ name: "echo", arguments: { message: `after ${i}` } })).isError).toBe(false);
      }
      expect(await proxy.errorLog()).not.toContain("no live upstreams");
    } finally {
      await own.stop();
    }
  });

  it("takes a stopped instance out of rotation after one refused connection and back once it serves again", async () => {
    const ports = [await freePort(), await freePort()];
    for (const port of ports) instances.push(await serveOn(port, redis.url));
    const proxy = await startNginx(ports);
    nginx = proxy;
    await killChild((instances[1] as ServeProcess).child, "SIGKILL");
    const refusals = async () => (await proxy.errorLog()).split("\n").filter((line) => line.includes("(111: Connection refused)")).length;
    const tools = createClient(ToolService, createConnectTransport({ baseUrl: proxy.httpUrl, httpVersion: "1.1" }));
    const grpcTools = createClient(ToolService, createGrpcTransport({ baseUrl: proxy.grpcUrl }));
    const calls = 40;
    for (let i = 0; i < calls; i++) {
      expect((await tools.callTool({ name: "echo", arguments: { message: `http ${i}` } })).isError).toBe(false);
      expect((await grpcTools.callTool({ name: "echo", arguments: { message: `grpc ${i}` } })).isError).toBe(false);
    }
    // Without health checks every other call would meet the dead instance first (40 refusals);
    // marked down, it is tried again only after fail_timeout.
    const refused = await refusals();
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThan(calls / 2);
    const back = await serveOn(ports[1] as number, redis.url);
    instances[1] = back;
    await expect
      .poll(
        async () => {
          await tools.callTool({ name: "echo", arguments: { message: "again" } });
          return echoCalls(back.url);
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBeGreaterThan(0n);
  }, 60_000);

  it("streams server-streaming calls through nginx as they happen, over Connect and gRPC-Web on HTTP/1.1 and over gRPC", async () => {
    const ports = [await freePort()];
    instances.push(await serveOn(ports[0] as number, redis.url));
    const proxy = await startNginx(ports);
    nginx = proxy;
    for (const transport of [
      createConnectTransport({ baseUrl: proxy.httpUrl, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl: proxy.httpUrl, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: proxy.grpcUrl }),
    ]) {
      const arrivals: number[] = [];
      const stream = createClient(ToolService, transport).callToolStream({ name: "monitor_resources", arguments: { duration: 2, interval: 0.5 } });
      for await (const message of stream) {
        arrivals.push(Date.now());
        if (message.event.case === "result") break;
      }
      // The samples come half a second apart on the server; buffered by the proxy they would all
      // arrive together with the result.
      expect(arrivals.length).toBeGreaterThan(3);
      expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(700);
    }
  }, 60_000);

  it("streams Server-Sent Events through nginx as they happen", async () => {
    const ports = [await freePort()];
    instances.push(await serveOn(ports[0] as number, redis.url));
    nginx = await startNginx(ports);
    const abort = new AbortController();
    const res = await fetch(`${nginx.httpUrl}/events?types=tool_succeeded`, { signal: abort.signal, headers: { accept: "text/event-stream" } });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // The first bytes (retry hint / heartbeat) arrive before any call: nothing is buffered.
    await reader.read();
    await createClient(ToolService, createConnectTransport({ baseUrl: nginx.httpUrl, httpVersion: "1.1" })).callTool({
      name: "echo",
      arguments: { message: "through nginx" },
    });
    let text = "";
    while (!text.includes("tool_succeeded")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    expect(text).toContain("tool_succeeded");
  });
});
