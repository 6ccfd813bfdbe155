import { afterEach, describe, expect, it } from "vitest";
import { createToolwireClient, type ToolwireClient } from "../../src/client/index.js";
import { createMonitoring } from "../../src/server/monitoring.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { clientProtocolCases, createClientTestTools } from "./client-fixtures.js";

const servers: TestServer[] = [];
const clients: ToolwireClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(monitoring: boolean): Promise<{ server: TestServer; probe: ReturnType<typeof createClientTestTools>["probe"] }> {
  const { tools, probe } = createClientTestTools("h");
  const server = await startServer({ tools, extensions: monitoring ? [createMonitoring({ processMetrics: false, logCalls: false })] : [] });
  servers.push(server);
  return { server, probe };
}

describe.each(clientProtocolCases)("healthCheck over $name", ({ options }) => {
  it("asks the gRPC health service when the server has one", async () => {
    const { server } = await serve(true);
    const client = createToolwireClient(server.url, options);
    clients.push(client);
    expect(await client.healthCheck()).toMatchObject({ healthy: true, status: "serving", via: "grpc.health.v1" });
  });

  it("falls back to a listing on a server without it", async () => {
    const { server } = await serve(false);
    const client = createToolwireClient(server.url, options);
    clients.push(client);
    expect(await client.healthCheck()).toMatchObject({ healthy: true, status: "serving", via: "list_tools" });
  });
});

describe("healthCheck", () => {
  it("reports not_serving while the server drains", async () => {
    const { server, probe } = await serve(true);
    const client = createToolwireClient(server.url);
    clients.push(client);
    // A running call keeps the server draining for the whole grace period.
    const running = client.callTool("park").catch(() => undefined);
    await probe.started("park", 1);
    const closing = server.close(1_500);
    // A draining server answers NOT_SERVING on connections still open; its port refuses new ones,
    // and this client's HTTP/2 connection (busy with the call) was sent GOAWAY, so it finds it
    // unreachable. Either way it is not healthy.
    await expect.poll(async () => (await client.healthCheck()).healthy).toBe(false);
    expect(["not_serving", "unreachable"]).toContain((await client.healthCheck()).status);
    await Promise.all([closing, running]);
  });
});
