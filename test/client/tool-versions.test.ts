import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProductionClient, createToolClient } from "../../src/client/index.js";
import { defineTool } from "../../src/registry/define-tool.js";
import type { ToolDescriptor } from "../../src/registry/tool-descriptor.js";
import { manifest } from "../helpers/registry-fixtures.js";
import { startServer, type TestServer } from "../helpers/server.js";

/** greeter at `version`, answering which version ran. */
function greeter(version: string) {
  return defineTool(manifest({ name: "greeter", version }), () => ({ ran: version }));
}

interface GreeterMap {
  greeter: { input: Record<string, never>; output: { ran: string }; streaming: false };
}

// Types generated when the server's default was 1.1.0.
const descriptors: { greeter: ToolDescriptor<Record<string, never>, { ran: string }> } = {
  greeter: { manifest: manifest({ name: "greeter", version: "1.1.0" }) },
};

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: [greeter("1.0.0"), greeter("1.1.0"), greeter("1.2.0"), greeter("2.0.0")] });
});
afterAll(() => server.close());

describe("which version typed tool methods call", () => {
  const transport = () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });

  it("calls the server's default version unless told otherwise", async () => {
    const tools = createToolClient<GreeterMap>(transport(), descriptors);
    expect(await tools.greeter()).toEqual({ ran: "2.0.0" });
  });

  it("calls the newest version compatible with the generated one under toolVersions: compatible", async () => {
    const tools = createToolClient<GreeterMap>(transport(), descriptors, { toolVersions: "compatible" });
    expect(await tools.greeter()).toEqual({ ran: "1.2.0" });
  });

  it("calls the version a call names, whatever the policy", async () => {
    const tools = createToolClient<GreeterMap>(transport(), descriptors, { toolVersions: "compatible" });
    expect(await tools.greeter({}, { version: "1.0.0" })).toEqual({ ran: "1.0.0" });
  });

  it("passes the policy and the descriptors through the production client", async () => {
    const client = createProductionClient<GreeterMap>(server.url, { toolVersions: "compatible", retry: false }, descriptors);
    try {
      expect(await client.tools.greeter()).toEqual({ ran: "1.2.0" });
      expect(Object.keys(client.tools)).toEqual(["greeter"]);
    } finally {
      await client.disconnect();
    }
  });
});
