import { createServer } from "node:http";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, fromJsonSchema, McpServer } from "@modelcontextprotocol/server";
import { echoTool } from "../../../gen/tools/echo.js";
import { listenBench, type BenchServer } from "../bench-server.js";

/**
 * The baseline for Toolwire's /mcp: the official SDK's own minimal stateless server — the
 * documented `createMcpHandler` + `toNodeHandler` wiring with one `echo` tool on McpServer, over
 * the same JSON Schemas as Toolwire's echo — and no pipeline, security or observability.
 */
export async function startMcpSdkServer(): Promise<BenchServer> {
  const { input, output } = echoTool.manifest;
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: "sdk-baseline", version: "1.0.0" });
    server.registerTool(
      "echo",
      {
        description: echoTool.manifest.description,
        inputSchema: fromJsonSchema<{ message: string; uppercase?: boolean }>(input),
        outputSchema: fromJsonSchema<{ message: string }>(output ?? { type: "object" }),
      },
      ({ message, uppercase }) => {
        const structuredContent = { message: uppercase === true ? message.toUpperCase() : message };
        return { content: [{ type: "text", text: JSON.stringify(structuredContent) }], structuredContent };
      },
    );
    return server;
  });
  const node = toNodeHandler(handler);
  return listenBench(createServer((req, res) => void node(req, res)));
}
