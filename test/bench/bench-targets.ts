import { isDeepStrictEqual } from "node:util";
import { benchApiKey } from "./servers/toolwire-secured-bench-server.js";

/** Which server a server child runs. */
export type ServerKind = "bare-http" | "bare-connect" | "toolwire" | "toolwire-secured" | "toolwire-monitoring" | "toolwire-monitoring-10" | "mcp-sdk" | "toolwire-mcp";

/** Arguments of the benchmarked echo call. */
export const echoArguments = { message: "hello" } as const;

/** The Connect JSON CallTool request body every target receives. */
export const callToolBody = JSON.stringify({ name: "echo", arguments: echoArguments });

/** Path of the Connect CallTool RPC. */
export const callToolPath = "/toolwire.v1.ToolService/CallTool";

/** Headers of the Connect JSON POST. */
export const jsonHeaders = { "content-type": "application/json" } as const;

/**
 * The MCP `tools/call` of echo both MCP targets receive: a 2026-07-28 (stateless) request, with
 * the envelope in `_meta` and the headers Streamable HTTP requires.
 */
export const mcpCallBody = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: {
    name: "echo",
    arguments: echoArguments,
    _meta: {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1.0.0" },
      "io.modelcontextprotocol/clientCapabilities": {},
    },
  },
});

/** Headers of the MCP POST. */
export const mcpHeaders = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2026-07-28",
  "mcp-method": "tools/call",
  "mcp-name": "echo",
} as const;

/** One benchmarked server: how to start it, where to send the call, and what a correct answer is. */
export interface BenchTarget {
  /** Selects the server in the server child. */
  readonly kind: ServerKind;
  /** Name shown in the report. */
  readonly label: string;
  /** Request path the load is posted to. */
  readonly path: string;
  /** Request body (default: the Connect JSON CallTool of echo). */
  readonly body?: string;
  /** Request headers (default: JSON content type). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Whether a parsed response body is the correct echo of {@link callToolBody}. */
  readonly isCorrectResponse: (body: unknown) => boolean;
  /** Live WatchEvents streams held open (from another process) while the load runs. */
  readonly subscribers?: number;
}

const echoesArguments = (body: unknown): boolean =>
  typeof body === "object" &&
  body !== null &&
  isDeepStrictEqual((body as { structuredContent?: unknown }).structuredContent, echoArguments);

const mcpEchoes = (body: unknown): boolean =>
  typeof body === "object" && body !== null && echoesArguments((body as { result?: unknown }).result);

/** The servers, in the order they are benchmarked. */
export const benchTargets: readonly BenchTarget[] = [
  {
    kind: "bare-http",
    label: "bare node:http",
    path: "/echo",
    isCorrectResponse: (body) => isDeepStrictEqual(body, JSON.parse(callToolBody)),
  },
  { kind: "bare-connect", label: "bare connect-node", path: callToolPath, isCorrectResponse: echoesArguments },
  { kind: "toolwire", label: "toolwire", path: callToolPath, isCorrectResponse: echoesArguments },
  {
    kind: "toolwire-secured",
    label: "toolwire + API key + per-caller limit",
    path: callToolPath,
    headers: { ...jsonHeaders, "x-api-key": benchApiKey },
    isCorrectResponse: echoesArguments,
  },
  { kind: "toolwire-monitoring", label: "toolwire + monitoring, 0 subscribers", path: callToolPath, isCorrectResponse: echoesArguments },
  {
    kind: "toolwire-monitoring-10",
    label: "toolwire + monitoring, 10 subscribers",
    path: callToolPath,
    isCorrectResponse: echoesArguments,
    subscribers: 10,
  },
  { kind: "mcp-sdk", label: "MCP SDK stateless server", path: "/mcp", body: mcpCallBody, headers: mcpHeaders, isCorrectResponse: mcpEchoes },
  { kind: "toolwire-mcp", label: "toolwire /mcp", path: "/mcp", body: mcpCallBody, headers: mcpHeaders, isCorrectResponse: mcpEchoes },
];
