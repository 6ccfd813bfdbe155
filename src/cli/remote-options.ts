import { InvalidArgumentError, Option, type Command } from "commander";
import type { ToolwireClient, TransportProtocol } from "../client/index.js";
import { usageError } from "./exit-codes.js";

/** The server a command talks to when neither --url nor TOOLWIRE_URL says otherwise. */
export const defaultServerUrl = "http://127.0.0.1:8081";

/** Flags shared by the commands that talk to a running server (list, call, watch). */
export interface RemoteFlags {
  /** Base URL of the server. */
  readonly url: string;
  /** API key, sent as `x-api-key`. */
  readonly apiKey?: string;
  /** Bearer token (a JWT), sent as `Authorization: Bearer`. */
  readonly token?: string;
  /** Deadline of the call in ms, sent to the server. */
  readonly timeout?: number;
  /** Wire protocol. */
  readonly protocol?: TransportProtocol;
  /** Use HTTP/1.1 instead of HTTP/2. */
  readonly http1?: boolean;
  /** Machine-readable output. */
  readonly json?: boolean;
}

/** Parses a whole number of milliseconds ≥ 1 for --timeout. */
function milliseconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of milliseconds ≥ 1");
  return n;
}

/** Options of {@link addRemoteOptions}. */
export interface RemoteOptionsConfig {
  /** Offer --timeout (default true; a command whose stream lives until stopped has no use for it). */
  readonly timeout?: boolean;
}

/**
 * Adds --url, --api-key, --token, --timeout, --protocol, --http1 and --json to a command, under
 * their own help heading. Credentials are best passed through the environment: flags show in `ps`.
 */
export function addRemoteOptions(command: Command, config: RemoteOptionsConfig = {}): Command {
  const group = "Server options:";
  command
    .addOption(new Option("--url <url>", "base URL of the Toolwire server").env("TOOLWIRE_URL").default(defaultServerUrl).helpGroup(group))
    .addOption(new Option("--api-key <key>", "API key to call with (prefer the env variable: flags show in ps)").env("TOOLWIRE_API_KEY").helpGroup(group))
    .addOption(new Option("--token <jwt>", "bearer token to call with, instead of an API key").env("TOOLWIRE_TOKEN").helpGroup(group));
  if (config.timeout !== false) {
    command.addOption(new Option("--timeout <ms>", "deadline sent to the server; it aborts the call when it passes").argParser(milliseconds).helpGroup(group));
  }
  return command
    .addOption(new Option("--protocol <protocol>", "wire protocol").choices(["connect", "grpc", "grpc-web"]).default("connect").helpGroup(group))
    .addOption(new Option("--http1", "use HTTP/1.1 instead of HTTP/2 (not with --protocol grpc)").helpGroup(group))
    .addOption(new Option("--json", "machine-readable JSON output").helpGroup("Output:"));
}

/**
 * A client of the server the flags name: the production client with the flags' credentials and
 * deadline, but no retries — a command makes one attempt and reports what happened, and without
 * retries the client sends no GetTool ahead of a call. Throws a usage error for a bad URL or for
 * both an API key and a token.
 */
export async function createRemoteClient(flags: RemoteFlags): Promise<ToolwireClient> {
  if (flags.apiKey !== undefined && flags.token !== undefined) {
    throw usageError("give an API key or a token, not both (check TOOLWIRE_API_KEY and TOOLWIRE_TOKEN)");
  }
  let url: URL;
  try {
    url = new URL(flags.url);
  } catch {
    throw usageError(`--url must be the URL of a Toolwire server, like ${defaultServerUrl}; got "${flags.url}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`--url must start with http:// or https://; got "${flags.url}"`);
  }
  if (flags.protocol === "grpc" && flags.http1 === true) throw usageError("gRPC needs HTTP/2: drop --http1, or use --protocol grpc-web");
  // Loaded here so that `--help` and usage errors never pay for the client and its transports.
  const { createProductionClient } = await import("../client/index.js");
  return createProductionClient(url.href.replace(/\/$/, ""), {
    transport: flags.protocol ?? "connect",
    httpVersion: flags.http1 === true ? "1.1" : "2",
    apiKey: flags.apiKey,
    token: flags.token,
    timeoutMs: flags.timeout,
    retry: false,
    pingIntervalMs: undefined,
  });
}
