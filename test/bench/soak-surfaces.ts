import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Client as McpClient, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { isDeepStrictEqual } from "node:util";
import { ToolService, type CallToolResponse } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { createAuthInterceptor } from "../../src/client/auth-interceptor.js";

/** The surfaces the soak drives, as named in its report. */
export const surfaceNames = ["connect-json", "connect-binary", "grpc", "grpc-web", "mcp", "stream", "list-get"] as const;

/** One of {@link surfaceNames}. */
export type SurfaceName = (typeof surfaceNames)[number];

/** How each surface is reached, for the report. */
export const surfaceDescriptions: Readonly<Record<SurfaceName, string>> = {
  "connect-json": "Connect JSON CallTool over HTTP/1.1, anonymous, echo and calculator in turn",
  "connect-binary": "Connect binary CallTool over HTTP/2, API key, echo",
  "grpc": "gRPC CallTool over h2c, API key, calculator",
  "grpc-web": "gRPC-Web CallTool over HTTP/1.1, anonymous, echo",
  "mcp": "MCP tools/call on /mcp (SDK client, stateless 2026-07-28), API key, echo",
  "list-get": "ListTools (Connect GET over HTTP/1.1) and GetTool in turn, API key",
  "stream": "CallToolStream over HTTP/2 (Connect JSON), API key, monitor_resources for 1 s: 4 progress messages, then the result",
};

/** One kind of call the soak makes, through a real client of its surface. */
export interface Surface {
  readonly name: SurfaceName;
  /** Share of the calls (relative to the other surfaces' weights). */
  readonly weight: number;
  /**
   * Whether a call answers at once: only these are in the capacity burst and the overall latency
   * percentiles (a streaming call lasts as long as its tool decides).
   */
  readonly quick: boolean;
  /** Makes one call and throws unless the answer is the right one. */
  call(signal: AbortSignal): Promise<void>;
}

/** The surfaces of one server, and how to let go of their connections. */
export interface SoakSurfaces {
  readonly surfaces: readonly Surface[];
  close(): Promise<void>;
}

/** How long one call may take before it counts as failed. */
const callTimeoutMs = 30_000;

function expectEcho(surface: string, result: { structuredContent?: unknown; isError?: boolean }, message: string): void {
  if (result.isError === true || !isDeepStrictEqual(result.structuredContent, { message })) {
    throw new Error(`${surface}: echo of "${message}" answered ${JSON.stringify(result).slice(0, 300)}`);
  }
}

function expectSum(surface: string, response: CallToolResponse, a: number, b: number): void {
  if (response.isError || response.structuredContent?.result !== a + b) {
    throw new Error(`${surface}: calculator ${a} + ${b} answered ${JSON.stringify(response.structuredContent)} (isError ${response.isError})`);
  }
}

/**
 * Creates the generated Connect clients (connect-node transports), the MCP SDK client (stateless
 * 2026-07-28) and the calls of every surface for the server at `baseUrl`. Calls marked "key" send
 * `apiKey`, so authenticated callers and anonymous ones both run through the pipeline.
 */
export async function createSoakSurfaces(baseUrl: string, apiKey: string): Promise<SoakSurfaces> {
  const withKey = [createAuthInterceptor({ apiKey })];
  const tools = (transport: Transport): Client<typeof ToolService> => createClient(ToolService, transport);
  const connectJson = tools(createConnectTransport({ baseUrl, httpVersion: "1.1" }));
  const connectGet = tools(createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true, interceptors: withKey }));
  const connectBinary = tools(createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, interceptors: withKey }));
  const grpc = tools(createGrpcTransport({ baseUrl, interceptors: withKey }));
  const grpcWeb = tools(createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }));
  const streaming = tools(createConnectTransport({ baseUrl, httpVersion: "2", interceptors: withKey }));
  const mcp = new McpClient({ name: "toolwire-soak", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { "x-api-key": apiKey } } }));

  let n = 0;
  const options = (signal: AbortSignal) => ({ signal, timeoutMs: callTimeoutMs });
  const surfaces: Surface[] = [
    {
      name: "connect-json",
      weight: 20,
      quick: true,
      async call(signal) {
        const i = n++;
        if (i % 2 === 0) {
          const message = `soak ${i}`;
          expectEcho(this.name, await connectJson.callTool({ name: "echo", arguments: { message } }, options(signal)), message);
        } else {
          expectSum(this.name, await connectJson.callTool({ name: "calculator", arguments: { operation: "add", a: i, b: 0.5 } }, options(signal)), i, 0.5);
        }
      },
    },
    {
      name: "connect-binary",
      weight: 15,
      quick: true,
      async call(signal) {
        const message = `soak ${n++}`;
        expectEcho(this.name, await connectBinary.callTool({ name: "echo", arguments: { message } }, options(signal)), message);
      },
    },
    {
      name: "grpc",
      weight: 15,
      quick: true,
      async call(signal) {
        const a = n++;
        expectSum(this.name, await grpc.callTool({ name: "calculator", arguments: { operation: "add", a, b: 2 } }, options(signal)), a, 2);
      },
    },
    {
      name: "grpc-web",
      weight: 15,
      quick: true,
      async call(signal) {
        const message = `soak ${n++}`;
        expectEcho(this.name, await grpcWeb.callTool({ name: "echo", arguments: { message } }, options(signal)), message);
      },
    },
    {
      name: "mcp",
      weight: 15,
      quick: true,
      async call(signal) {
        const message = `soak ${n++}`;
        expectEcho(this.name, await mcp.callTool({ name: "echo", arguments: { message } }, { signal, timeout: callTimeoutMs }), message);
      },
    },
    {
      name: "list-get",
      weight: 8,
      quick: true,
      async call(signal) {
        if (n++ % 2 === 0) {
          const { tools: listed } = await connectGet.listTools({}, options(signal));
          if (!listed.some((tool) => tool.name === "list_processes")) throw new Error(`${this.name}: ListTools with the API key lacks list_processes: ${listed.map((t) => t.name).join(", ")}`);
        } else {
          const { tool } = await connectGet.getTool({ name: "calculator" }, options(signal));
          if (tool?.name !== "calculator") throw new Error(`${this.name}: GetTool calculator answered ${tool?.name ?? "no tool"}`);
        }
      },
    },
    {
      name: "stream",
      weight: 2,
      quick: false,
      async call(signal) {
        let progress = 0;
        let result: CallToolResponse | undefined;
        const args = { duration: 1, interval: 0.25 };
        for await (const message of streaming.callToolStream({ name: "monitor_resources", arguments: args }, options(signal))) {
          if (result !== undefined) throw new Error(`${this.name}: a message after the result`);
          if (message.event.case === "progress") progress++;
          else if (message.event.case === "result") result = message.event.value;
        }
        if (progress !== 4 || result === undefined || result.isError || result.structuredContent?.samples !== 4) {
          throw new Error(`${this.name}: ${progress} progress messages and result ${JSON.stringify(result?.structuredContent ?? null).slice(0, 200)}`);
        }
      },
    },
  ];
  return { surfaces, close: () => mcp.close() };
}
