import { Transform, type Readable, type Writable } from "node:stream";
import { STDIO_DEFAULT_MAX_BUFFER_SIZE, type Server } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { refuseMessage } from "./request-check.js";
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
  const lines = stdin.pipe(checkedLines(stdout));
  // pipe() passes data, not errors: the transport hears of a failing stdin through its lines.
  stdin.on("error", (err) => lines.destroy(err));
  // The connection's instance (and a discarded discovery probe, if any): list changes go to them.
  const instances = new Set<Server>();
  const handle = serveStdio(
    () => {
      const server = create();
      instances.add(server);
      server.onclose = () => instances.delete(server);
      return server;
    },
    { transport: new StdioServerTransport(lines, stdout), onerror: onError },
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
  // The transport listens to the checked lines; the end of the client's stdin is watched here.
  const closed = new Promise<void>((resolve) => {
    stdin.once("end", resolve);
    stdin.once("close", resolve);
  }).then(() => unsubscribe?.());
  return {
    closed,
    async close() {
      unsubscribe?.();
      await handle.close();
      stdin.unpipe(lines);
    },
  };
}

/**
 * Passes stdin on line by line, answering the lines that are no usable JSON-RPC message itself, as
 * the HTTP endpoint does: the SDK's stdio transport drops them silently, which leaves a client
 * waiting forever for the answer to a malformed request.
 */
function checkedLines(stdout: Writable): Transform {
  let pending: Buffer = Buffer.alloc(0);
  // A line longer than the SDK's buffer limit goes through unread: the transport refuses it.
  let oversized = false;
  const answer = (id: string | number | null, error: { code: number; message: string }) => {
    stdout.write(`${JSON.stringify({ jsonrpc: "2.0", id, error })}\n`);
  };
  const check = (line: Buffer): boolean => {
    const text = line.toString("utf8").trim();
    if (text.length === 0) return true;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      answer(null, { code: -32700, message: "Parse error: the line is not valid JSON; send one JSON-RPC message per line" });
      return false;
    }
    const refusal = refuseMessage(message);
    if (refusal === undefined) return true;
    answer(refusal.id, refusal.error);
    return false;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let rest = chunk;
      for (let nl = rest.indexOf(10); nl !== -1; nl = rest.indexOf(10)) {
        const line = Buffer.concat([pending, rest.subarray(0, nl + 1)]);
        pending = Buffer.alloc(0);
        rest = rest.subarray(nl + 1);
        if (oversized || check(line)) this.push(line);
        oversized = false;
      }
      pending = Buffer.concat([pending, rest]);
      if (pending.length > STDIO_DEFAULT_MAX_BUFFER_SIZE) {
        oversized = true;
        this.push(pending);
        pending = Buffer.alloc(0);
      }
      done();
    },
    flush(done) {
      done(null, pending.length > 0 ? pending : undefined);
    },
  });
}
