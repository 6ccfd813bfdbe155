import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMcpEndpoint } from "../../src/mcp/index.js";
import { builtinTools } from "../../src/tools/index.js";
import { startServer, toolClient, type TestServer } from "../helpers/server.js";
import { createClientPool, eras, protocolError, textOf } from "./mcp-clients.js";

let server: TestServer;
const pool = createClientPool();
beforeAll(async () => {
  server = await startServer({ tools: builtinTools, extensions: [createMcpEndpoint()] });
});
afterEach(() => pool.closeAll());
afterAll(() => server.close());

/** What a call answered, in terms every surface shares. */
interface Answer {
  readonly structured: unknown;
  readonly text: string;
  readonly isError: boolean;
}

async function overMcp(era: (typeof eras)[number], name: string, args: Record<string, unknown>): Promise<Answer> {
  const client = await pool.connect(`${server.url}/mcp`, era);
  const result = await client.callTool({ name, arguments: args });
  return { structured: result.structuredContent, text: textOf(result), isError: result.isError === true };
}

async function overConnectRpc(protocol: "connect" | "grpc", name: string, args: Record<string, unknown>): Promise<Answer> {
  const transport =
    protocol === "grpc" ? createGrpcTransport({ baseUrl: server.url }) : createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
  const result = await toolClient(server.url, transport).callTool({ name, arguments: args as never });
  const text = result.content.flatMap((c) => (c.block.case === "text" ? [c.block.value.text] : [])).join("\n");
  return { structured: result.structuredContent, text, isError: result.isError };
}

const cases = [
  { name: "calculator", args: { operation: "power", a: 2, b: 10 } },
  { name: "echo", args: { message: "same everywhere", uppercase: true } },
  { name: "calculator", args: { operation: "divide", a: 1, b: 0 } },
] as const;

describe("the same tool over MCP, Connect and gRPC", () => {
  it.each(cases)("gives the same answer to $name $args", async ({ name, args }) => {
    const reference = await overConnectRpc("connect", name, args);
    expect(await overConnectRpc("grpc", name, args)).toEqual(reference);
    for (const era of eras) expect(await overMcp(era, name, args)).toEqual(reference);
  });

  it("explains arguments that break the schema in the same words everywhere", async () => {
    const args = { operation: "add", a: 1 };
    const err = await toolClient(server.url)
      .callTool({ name: "calculator", arguments: args })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(err?.code).toBe(Code.InvalidArgument);
    for (const era of eras) {
      const answer = await overMcp(era, "calculator", args);
      expect(answer).toEqual({ structured: undefined, text: err?.rawMessage, isError: true });
    }
  });

  it("refuses an unknown tool everywhere", async () => {
    const err = await toolClient(server.url)
      .callTool({ name: "nonexistent" })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(err?.code).toBe(Code.NotFound);
    for (const era of eras) {
      const client = await pool.connect(`${server.url}/mcp`, era);
      const refused = await protocolError(client.callTool({ name: "nonexistent", arguments: {} }));
      expect(refused.code).toBe(-32602);
      expect(refused.data).toMatchObject({ code: "not_found", reason: "TOOL_NOT_FOUND" });
    }
  });
});
