import { Client, ProtocolError, StreamableHTTPClientTransport, type ClientOptions } from "@modelcontextprotocol/client";
import { expect } from "vitest";
import { defineTool } from "../../src/registry/index.js";
import type { ToolRegistry } from "../../src/registry/index.js";

/** One MCP protocol generation the official SDK client can speak. */
export interface Era {
  /** Test title. */
  readonly name: string;
  /** "legacy": the 2025-era initialize handshake; "modern": the stateless 2026-07-28 revision. */
  readonly era: "legacy" | "modern";
  /** Client options that select it. */
  readonly options: ClientOptions;
}

/** Both generations: the client's default 2025 handshake, and 2026-07-28 pinned. */
export const eras: readonly Era[] = [
  { name: "2025-era initialize", era: "legacy", options: {} },
  { name: "2026-07-28 stateless", era: "modern", options: { versionNegotiation: { mode: { pin: "2026-07-28" } } } },
];

/** Clients opened by a test file, closed after each test. */
export function createClientPool() {
  const open: Client[] = [];
  return {
    /** Connects an SDK client to `url` over Streamable HTTP. */
    async connect(url: string, era: Era, init: { headers?: Record<string, string>; options?: ClientOptions } = {}): Promise<Client> {
      const client = new Client({ name: "toolwire-test", version: "1.0.0" }, { ...era.options, ...init.options });
      const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: init.headers ?? {} } });
      open.push(client);
      await client.connect(transport);
      return client;
    },
    /** Ends every client connected so far (and its session, as a well-behaved client does). */
    async closeAll(): Promise<void> {
      await Promise.all(
        open.splice(0).map(async (client) => {
          const transport = client.transport;
          if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
            await transport.terminateSession().catch(() => {});
          }
          await client.close().catch(() => {});
        }),
      );
    },
  };
}

/** Awaits a promise that must reject with an MCP ProtocolError, and returns it. */
export async function protocolError(promise: Promise<unknown>): Promise<ProtocolError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a protocol error, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof ProtocolError)) throw new Error(`expected a ProtocolError, got ${String(outcome.error)}`, { cause: outcome.error });
  return outcome.error;
}

/** The text of a result's text content blocks, joined by newlines. */
export function textOf(result: { content?: unknown }): string {
  const blocks = (result.content ?? []) as { type: string; text?: string }[];
  return blocks.flatMap((b) => (b.type === "text" && b.text !== undefined ? [b.text] : [])).join("\n");
}

/**
 * Registers a new tool every `intervalMs` until `client` has heard `notifications/tools/list_changed`
 * (its listening stream comes up on its own time, and until then changes reach nobody). Returns the
 * names registered, for the caller to unregister.
 */
export async function registerUntilListChanged(
  client: Client,
  registry: ToolRegistry,
  options: { readonly prefix: string; readonly intervalMs: number; readonly timeoutMs: number },
): Promise<string[]> {
  let changes = 0;
  client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
  const added: string[] = [];
  try {
    await expect
      .poll(
        () => {
          const name = `${options.prefix}${added.length}`;
          registry.register(defineTool({ name, version: "1.0.0", description: "registered late", input: { type: "object" } }, () => ({})));
          added.push(name);
          return changes;
        },
        { interval: options.intervalMs, timeout: options.timeoutMs },
      )
      .toBeGreaterThan(0);
  } catch (err) {
    for (const name of added) registry.unregister(name);
    throw err;
  }
  return added;
}
