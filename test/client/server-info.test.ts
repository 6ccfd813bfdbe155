import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerStatus, StatsScope } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { createToolwireClient, type ToolwireClient } from "../../src/client/index.js";
import { createMonitoring } from "../../src/server/monitoring.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { clientProtocolCases, createClientTestTools, rejection } from "./client-fixtures.js";

let server: TestServer;
let bare: TestServer;
beforeAll(async () => {
  server = await startServer({
    tools: createClientTestTools("info").tools,
    serverId: "info-1",
    extensions: [createMonitoring({ processMetrics: false, logCalls: false })],
  });
  bare = await startServer({ tools: createClientTestTools("bare").tools });
});
afterAll(async () => {
  await server.close();
  await bare.close();
});

describe.each(clientProtocolCases)("server information over $name", ({ options }) => {
  let client: ToolwireClient;
  beforeAll(() => {
    client = createToolwireClient(server.url, options);
  });
  afterAll(() => client.disconnect());

  it("getServerInfo says who the server is", async () => {
    const info = await client.getServerInfo();
    expect(info).toMatchObject({ serverId: "info-1", status: ServerStatus.SERVING, url: server.url });
    expect(info.toolCount).toBeGreaterThan(0);
  });

  it("getStats reports the server's own usage statistics", async () => {
    const before = (await client.getStats({ tools: ["whoami"] })).tools[0]?.calls ?? 0n;
    await client.callTool("whoami");
    await client.callTool("whoami");
    const stats = await client.getStats({ tools: ["whoami"] });
    expect(stats.scope).toBe(StatsScope.INSTANCE);
    expect(stats.tools.map((t) => [t.name, t.calls - before])).toEqual([["whoami", 2n]]);
  });
});

describe("server information", () => {
  it("fails with the server's error on a server without the monitor service", async () => {
    const client = createToolwireClient(bare.url);
    try {
      const err = await rejection(client.getServerInfo());
      // The server answers an unknown route 404 with its own JSON error code.
      expect([Code.Unimplemented, Code.NotFound]).toContain(err.code);
      expect(err.rawMessage).toContain("MonitorService");
    } finally {
      await client.disconnect();
    }
  });
});
