import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { MonitorService } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { freePort, killChild, spawnServe, type ServeProcess } from "../cluster/cluster-helpers.js";
import { startNginx, type TestNginx } from "./nginx.js";

/** Starts `toolwire serve` on a fixed port, sharing Redis; retries when the port was taken meanwhile. */
async function serveOn(port: number, redisUrl: string): Promise<ServeProcess> {
  return spawnServe(["--port", String(port), "--shutdown-grace-ms", "5000"], { TOOLWIRE_REDIS_URL: redisUrl });
}

/** Calls echo through nginx over Connect (HTTP/1.1) and gRPC (h2c), `perProtocol` workers each, until stopped. */
function load(nginx: TestNginx, protocols: readonly ("connect" | "grpc")[], perProtocol: number) {
  let running = true;
  const tally = { connect: 0, grpc: 0, failed: [] as string[] };
  const transports = (
    [
      ["connect", createConnectTransport({ baseUrl: nginx.httpUrl, httpVersion: "1.1" })],
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
    total: () => tally.connect + tally.grpc,
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

  /** Restarts every instance in turn (SIGTERM, wait for exit 0, start again on the same port) under load through nginx. */
  async function rollingRestart(protocols: readonly ("connect" | "grpc")[]) {
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
      instances[i] = await serveOn(ports[i] as number, redis.url);
      const restarted = traffic.total();
      await expect.poll(() => traffic.total(), { timeout: 20_000 }).toBeGreaterThan(restarted + 100);
    }
    const tally = await traffic.stop();
    // A refused connect to a stopped instance is logged and retried: only the rest explains a failure.
    const unexpected = (await proxy.errorLog()).split("\n").filter((line) => line !== "" && !line.includes("(111: Connection refused)"));
    return { tally, restarts: ports.length, log: unexpected.join("\n") };
  }

  it("loses no Connect call while every instance restarts in turn under load: a draining instance answers 503 and nginx retries elsewhere", async () => {
    const { tally, log } = await rollingRestart(["connect"]);
    expect(tally.failed, log).toEqual([]);
    expect(tally.connect).toBeGreaterThan(300);
  }, 120_000);

  it("refuses no gRPC call while every instance restarts in turn under load: nginx's new connections are refused and its open ones are retired, not cut", async () => {
    const { tally, restarts, log } = await rollingRestart(["grpc"]);
    expect(tally.grpc).toBeGreaterThan(300);
    // No call is answered unavailable by a draining instance (before connections were retired,
    // a restart lost a dozen that way). What remains is the rare failure the README names: nginx
    // sees an upstream connection close under a call it already sent and cannot resend it. nginx
    // sends one call per upstream connection, so it costs at most one call per restart, and the
    // client sees a stream reset, never unavailable.
    expect(tally.failed.filter((failure) => !failure.includes("[internal] Stream closed with error code NGHTTP2_INTERNAL_ERROR")), log).toEqual([]);
    expect(tally.failed.length, log).toBeLessThanOrEqual(restarts);
  }, 120_000);

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
