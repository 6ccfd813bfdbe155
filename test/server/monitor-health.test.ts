import { Agent } from "node:http";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { ServerStatus } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { monitorClient, startMonitoredServer } from "./monitor-helpers.js";

const services = [
  "",
  "toolwire.v1.ToolService",
  "toolwire.v1.MonitorService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

let server: TestServer;
beforeAll(async () => {
  server = await startMonitoredServer({});
});
afterAll(() => server.close());

const transports = {
  gRPC: (url: string) => createGrpcTransport({ baseUrl: url }),
  Connect: (url: string) => createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
};

describe.each(Object.entries(transports))("grpc.health.v1.Health over %s", (_name, transport) => {
  it.each(services)("answers SERVING for %j", async (service) => {
    const health = createClient(Health, transport(server.url));
    expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
  });

  it("answers not_found for a service it does not serve", async () => {
    const health = createClient(Health, transport(server.url));
    const err = await health.check({ service: "nope.v1.Nope" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toContain('unknown service "nope.v1.Nope"; known: toolwire.v1.ToolService');
  });

  it("lists every service with its status", async () => {
    const health = createClient(Health, transport(server.url));
    const { statuses } = await health.list({});
    expect(Object.keys(statuses).sort()).toEqual([...services].sort());
    expect(Object.values(statuses).every((s) => s.status === ServingStatus.SERVING)).toBe(true);
  });

  it("sends SERVICE_UNKNOWN on Watch for a service it does not serve, and keeps watching", async () => {
    const health = createClient(Health, transport(server.url));
    const controller = new AbortController();
    const stream = health.watch({ service: "nope.v1.Nope" }, { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    controller.abort();
    await stream.next().catch(() => undefined);
  });
});

describe("health during shutdown", () => {
  it("turns NOT_SERVING for Check, Watch and /health as soon as shutdown starts, while calls still drain", async () => {
    const test = createTestTools();
    const closing = await startMonitoredServer({ tools: test.tools });
    const health = createClient(Health, createGrpcTransport({ baseUrl: closing.url }));
    const watched: ServingStatus[] = [];
    let watchError: unknown;
    const watching = (async () => {
      try {
        for await (const message of health.watch({ service: "toolwire.v1.ToolService" })) watched.push(message.status);
      } catch (err) {
        watchError = err;
      }
    })();
    await expect.poll(() => watched).toEqual([ServingStatus.SERVING]);
    // Read to the end, so the keep-alive connection is free for the checks during shutdown.
    const before = await fetch(`${closing.url}/health`);
    await before.text();
    expect(before.status).toBe(200);
    // The port stops accepting connections once shutdown starts: later checks use an HTTP/1.1
    // keep-alive connection opened now.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const kept = createConnectTransport({ baseUrl: closing.url, httpVersion: "1.1", nodeOptions: { agent } });
    const check = createClient(Health, kept);
    expect((await check.check({ service: "" })).status).toBe(ServingStatus.SERVING);

    // A call keeps the server draining while we look.
    const call = toolClient(closing.url).callTool({ name: "hang" }).catch((err: unknown) => ConnectError.from(err));
    await test.probe.started(1);
    const stopping = closing.close(1_000);

    // The Watch stream says NOT_SERVING and ends at once, not when the server is gone.
    await watching;
    expect(watched).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(watchError).toBeUndefined();
    expect(closing.server.pipeline.inFlight).toBe(1);

    expect((await check.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
    expect((await check.check({ service: "toolwire.v1.MonitorService" })).status).toBe(ServingStatus.NOT_SERVING);
    const plain = await fetch(`${closing.url}/health`);
    expect(plain.status).toBe(503);
    expect(await plain.json()).toMatchObject({ status: "draining" });

    // Public monitoring data stays readable while draining.
    const info = await monitorClient(closing.url, kept).getServerInfo({});
    expect(info.status).toBe(ServerStatus.DRAINING);
    expect(info.statusReason).toBe("shutting down: running calls finish, new ones are refused");
    expect((await fetch(`${closing.url}/metrics`)).status).toBe(200);

    expect(((await call) as ConnectError).code).toBe(Code.Unavailable);
    await stopping;
    agent.destroy();
  });
});
