import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { ToolRegistry } from "../registry/tool-registry.js";
import type { CallPipeline } from "../runtime/call-pipeline.js";
import type { StreamTracker } from "./tool-service.js";

/** A plain HTTP request as node:http or node:http2 (compatibility API) delivers it. */
export type PlainRequest = IncomingMessage | Http2ServerRequest;

/** A plain HTTP response of node:http or node:http2 (compatibility API). */
export type PlainServerResponse = ServerResponse | Http2ServerResponse;

/**
 * Handles one plain HTTP route (/metrics, /events, /mcp). What it throws before answering becomes
 * a 500 JSON error; the server's Host/Origin and CORS checks have already run.
 */
export type PlainRouteHandler = (req: PlainRequest, res: PlainServerResponse) => void | Promise<void>;

/** Where a server listens, once it does. */
export interface ServerAddress {
  /** Base URL, e.g. http://127.0.0.1:8081. */
  readonly url: string;
  /** The address listened on. */
  readonly host: string;
  /** The port listened on. */
  readonly port: number;
}

/** What the server shares with its extensions. */
export interface ServerContext {
  /** This instance's id, as events and server info report it. */
  readonly serverId: string;
  /** The tool registry. */
  readonly registry: ToolRegistry;
  /** The call pipeline every surface goes through. */
  readonly pipeline: CallPipeline;
  /** The server's structured logger. */
  readonly logger: Logger;
  /** When the server was created (epoch ms). */
  readonly startedAt: number;
  /** CallToolStream responses still open. */
  readonly streams: StreamTracker;
  /** Largest request body a plain HTTP route should accept, in bytes (answer 413 above it). */
  readonly maxBodyBytes: number;
  /** Longest a server stream (WatchEvents, /events) may stay open, in ms; end it then so the client resumes. */
  readonly maxStreamDurationMs: number;
  /** Base URL once listening, "" before. */
  readonly url: string;
  /** Whether shutdown has begun. */
  readonly shuttingDown: boolean;
}

/** Surfaces an extension adds to the one port. */
export interface ServerExtension {
  /** Connect services the extension implements (request checks and the 404 text use them). */
  readonly services?: readonly DescService[];
  /** Registers the implementations of `services` on the Connect router. */
  routes?(router: ConnectRouter): void;
  /** Plain HTTP routes by exact path, e.g. { "/metrics": handler }. */
  readonly httpRoutes?: Readonly<Record<string, PlainRouteHandler>>;
  /**
   * Why the server is degraded (a shared dependency such as Redis is away), undefined when it is
   * not; /health then reports "degraded" with the reason, still answering 200 since calls are served.
   */
  degradedReason?(): string | undefined;
  /** The server is listening at `address` (the URL is known only from now on). */
  listening?(address: ServerAddress): void;
  /** Shutdown has begun: health turns NOT_SERVING, long-lived streams should end now. */
  shutdown?(): void;
  /** The server has closed every connection: release timers, subscriptions, clients. */
  close?(): void | Promise<void>;
}

/** Creates an extension for a server; called once, when the server is created. */
export type ServerExtensionFactory = (context: ServerContext) => ServerExtension;
