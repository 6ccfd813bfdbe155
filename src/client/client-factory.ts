import type { ToolMap } from "../../gen/tools/index.js";
import type { ToolwireClientOptions } from "./client-options.js";
import type { ToolClientDescriptors, ToolMapShape } from "./tool-client.js";
import { createToolwireClient, type ToolwireClient } from "./toolwire-client.js";

/**
 * A client with nothing added: Connect over HTTP/2, no credentials, no deadline, no retries.
 * For scripts and tests; use {@link createProductionClient} for services.
 */
export function createSimpleClient(url: string): ToolwireClient {
  return createToolwireClient(url);
}

/**
 * A client for services: Connect over HTTP/2 with a 30 s deadline for unary calls, up to 4
 * attempts for calls that are safe to retry (100 ms backoff growing to 5 s, with jitter) and
 * HTTP/2 PINGs every 30 s to notice dead connections. Every default can be overridden, and
 * credentials, allowed security levels, TLS and logging added, through `options`. `descriptors`
 * (a generated `toolDescriptors`) types the `tools` methods, as in {@link createToolwireClient}.
 */
export function createProductionClient<M extends ToolMapShape<M> = ToolMap>(
  url: string,
  options: ToolwireClientOptions = {},
  descriptors?: ToolClientDescriptors<M>,
): ToolwireClient<M> {
  return createToolwireClient<M>(url, {
    timeoutMs: 30_000,
    pingIntervalMs: 30_000,
    ...options,
    retry: options.retry === false ? false : { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 5_000, ...options.retry },
  }, descriptors);
}
