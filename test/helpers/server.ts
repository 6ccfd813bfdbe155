import type { Transport } from "@connectrpc/connect";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { createToolwireServer, type ToolwireServer, type ToolwireServerOptions } from "../../src/server/index.js";

/** A server started on a random loopback port for one test file. */
export interface TestServer {
  readonly server: ToolwireServer;
  readonly url: string;
  readonly port: number;
  /** Stops the server (grace 0 unless given). */
  close(graceMs?: number): Promise<void>;
}

/** Starts a Toolwire server on 127.0.0.1 with a random port. */
export async function startServer(options: ToolwireServerOptions = {}): Promise<TestServer> {
  const server = createToolwireServer({ host: "127.0.0.1", port: 0, ...options });
  const { url, port } = await server.listen();
  return { server, url, port, close: (graceMs = 0) => server.close(graceMs) };
}

/** One way of reaching the server: protocol, HTTP version and encoding. */
export interface ProtocolCase {
  readonly name: string;
  transport(baseUrl: string): Transport;
}

/** Every protocol × HTTP version × encoding the server must serve. */
export const protocolCases: readonly ProtocolCase[] = [
  { name: "connect json over HTTP/1.1", transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }) },
  { name: "connect binary over HTTP/1.1", transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }) },
  { name: "connect json over HTTP/2", transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2" }) },
  { name: "connect binary over HTTP/2", transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }) },
  { name: "connect GET over HTTP/1.1", transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true }) },
  // gRPC needs HTTP/2 (trailers); connect-node's gRPC transport speaks nothing else.
  { name: "gRPC over HTTP/2", transport: (baseUrl) => createGrpcTransport({ baseUrl }) },
  { name: "gRPC-Web over HTTP/1.1", transport: (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }) },
  { name: "gRPC-Web over HTTP/2", transport: (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2" }) },
];

/** A generated ToolService client over the Connect protocol (JSON, HTTP/1.1). */
export function toolClient(baseUrl: string, transport?: Transport): Client<typeof ToolService> {
  return createClient(ToolService, transport ?? createConnectTransport({ baseUrl, httpVersion: "1.1" }));
}
