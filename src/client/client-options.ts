import type { Interceptor } from "@connectrpc/connect";
import type { SecurityLevelName } from "../security/security-level.js";
import type { TokenProvider } from "./auth-interceptor.js";
import type { ClientTlsOptions, TransportProtocol } from "./client-transport.js";
import type { ClientLogger } from "./logging-interceptor.js";
import type { RetryOptions } from "./retry-interceptor.js";
import type { ToolVersionPolicy } from "./tool-client.js";

/** How a Toolwire client reaches its server and behaves when things go wrong. */
export interface ToolwireClientOptions {
  /** Wire protocol: "connect" (default), "grpc" (HTTP/2 only) or "grpc-web". */
  readonly transport?: TransportProtocol;
  /** HTTP version: "2" (default; one multiplexed connection) or "1.1". */
  readonly httpVersion?: "1.1" | "2";
  /** Send protobuf binary rather than JSON (Connect and gRPC-Web; default false). */
  readonly useBinaryFormat?: boolean;
  /** API key, sent as the `x-api-key` header with every call (not together with `token`). */
  readonly apiKey?: string;
  /**
   * Bearer token, or a function that returns one (called for every attempt, so it can refresh),
   * sent as `Authorization: Bearer <token>`.
   */
  readonly token?: string | TokenProvider;
  /**
   * Deadline of unary calls that set none, in ms; sent to the server, which aborts the tool when it
   * passes. Streams (CallToolStream, event listeners) get a deadline only when the call gives one.
   * Default: none.
   */
  readonly timeoutMs?: number;
  /**
   * Retries of calls that failed with unavailable or a connection failure, with exponential backoff
   * and jitter: always for listings, GetTool, health and stats; for tool calls only when the
   * manifest says `idempotentHint` (learnt from GetTool, cached, before the first call of each
   * tool) or the call carries an idempotency key. `false` turns them off. Default off.
   */
  readonly retry?: RetryOptions | false;
  /**
   * Security levels this client may call. A call to a tool at another level is refused with
   * permission_denied before it is sent. Default: every level (the server decides).
   */
  readonly allowedSecurityLevels?: readonly SecurityLevelName[];
  /** Where calls, retries and event-stream changes are logged; default nowhere. */
  readonly logger?: ClientLogger;
  /** TLS settings for `https://` servers: private CA, client certificate, server name. */
  readonly tls?: ClientTlsOptions;
  /** Send HTTP/2 PINGs this often to notice a dead connection early (default off). */
  readonly pingIntervalMs?: number;
  /** How long what GetTool says about a tool (level, idempotency) is trusted, in ms (default 30 000). */
  readonly toolMetadataTtlMs?: number;
  /** How many recent calls per tool the client's latency percentiles use (default 1 024). */
  readonly usageStatsWindow?: number;
  /**
   * Which version the typed `tools` methods call when a call names none: "default" the server's
   * default version; "compatible" the semver-compatible range (`^`) of the version each method's
   * types were generated from, so a server that moved on to a breaking version refuses the call
   * rather than answering in another shape. Default "default"; the client that
   * `toolwire generate --from-url` writes uses "compatible".
   */
  readonly toolVersions?: ToolVersionPolicy;
  /** More interceptors, run for every attempt just before the request is sent. */
  readonly interceptors?: readonly Interceptor[];
}
