import type { Readable, Writable } from "node:stream";
import type { Server } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { createToolServerFactory } from "./tool-server.js";
import type { McpIdentity, McpToolSource } from "./tool-source.js";

/** Options of {@link serveMcpOverStdio}. */
export interface StdioServeOptions {
  /** Who the process at the other end is: every call runs with this caller's credentials. */
  readonly identity: McpIdentity;
  /** Where messages come from (default process.stdin). */
  readonly stdin?: Readable | undefined;
  /** Where messages go (default process.stdout); nothing else may be written to it. */
  readonly stdout?: Writable | undefined;
  /** How to use this server, for the client's model. */
  readonly instructions?: string | undefined;
  /** Told about failures that are bugs, and about messages the SDK could not handle. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** An MCP connection over stdio. */
export interface McpStdioServer {
  /** Settles when the client closes its end (stdin ends). */
  readonly closed: Promise<void>;
  /** Ends the connection. */
  close(): Promise<void>;
}

/**
 * Serves `source` to the MCP client at the other end of stdin/stdout, for clients that spawn a
 * process (Claude Desktop, Cursor, the Inspector). The SDK's stdio entry picks the protocol
 * generation from the client's first message and pins one server instance for the connection, so
 * `notifications/cancelled` reaches the running call and list changes reach the client.
 */
export function serveMcpOverStdio(source: McpToolSource, options: StdioServeOptions): McpStdioServer {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const onError = options.onError ?? (() => {});
  const create = createToolServerFactory(source, {
    identify: () => options.identity,
    instructions: options.instructions,
    onError,
  });
  // The connection's instance (and a discarded discovery probe, if any): list changes go to them.
  const instances = new Set<Server>();
  const handle = serveStdio(
    () => {
      const server = create();
      instances.add(server);
      server.onclose = () => instances.delete(server);
      return server;
    },
    { transport: new StdioServerTransport(stdin, stdout), onerror: onError },
  );
  let changePending = false;
  const unsubscribe = source.onToolsChanged?.(() => {
    if (changePending) return;
    changePending = true;
    setImmediate(() => {
      changePending = false;
      for (const server of instances) {
        if (server.transport !== undefined) server.sendToolListChanged().catch(() => {});
      }
    });
  });
  const closed = new Promise<void>((resolve) => {
    stdin.once("end", resolve);
    stdin.once("close", resolve);
  }).then(() => unsubscribe?.());
  return {
    closed,
    async close() {
      unsubscribe?.();
      await handle.close();
    },
  };
}
