import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createContextValues } from "@connectrpc/connect";
import { pino, type Logger } from "pino";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import type { AnyToolDefinition } from "../registry/define-tool.js";
import { createToolRegistry, type ToolRegistry } from "../registry/tool-registry.js";
import { createCallPipeline, type CallObserver, type CallPipeline, type RequestLimits } from "../runtime/call-pipeline.js";
import { codeName } from "../runtime/code-name.js";
import { createOriginPolicy, isUnspecifiedHost } from "../security/origin-policy.js";
import type { ToolRateLimiter } from "../security/rate-limit.js";
import type { Authenticator } from "../runtime/caller.js";
import { createClientAddressResolver, createTrustedProxyMatcher } from "../security/forwarded-for.js";
import { version } from "../version.js";
import { clientAddressOf, peerAddressKey, rememberClientAddress } from "./caller-info.js";
import { createConnectHandler } from "./connect-handler.js";
import { createConnectionLifecycle } from "./connection-lifecycle.js";
import { createEdgeHandler } from "./edge-handler.js";
import {
  cachingDecorator,
  connectionCapGuard,
  corsDecorator,
  drainGuard,
  headerSizeGuard,
  hostGuard,
  originGuard,
  type EdgeGuard,
} from "./edge-guards.js";
import type { HealthReport } from "./health.js";
import { createHttpListener } from "./http-listener.js";
import { createInFlight, waitAtMost } from "./in-flight.js";
import { createPlainRoutes } from "./plain-routes.js";
import { createRequestGate } from "./request-gate.js";
import { createToolService, type StreamTracker } from "./tool-service.js";
import type { PlainRouteHandler, ServerAddress, ServerContext, ServerExtension, ServerExtensionFactory } from "./server-extension.js";

/** Options of {@link createToolwireServer}. */
export interface ToolwireServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Port to listen on (default 8081; 0 picks a free one). */
  readonly port?: number;
  /** Tools to register at start. */
  readonly tools?: readonly AnyToolDefinition[];
  /** Use this registry instead of a new one (tools are added to it). */
  readonly registry?: ToolRegistry;
  /** Identifies callers; default: everyone is anonymous (public level). */
  readonly authenticate?: Authenticator;
  /**
   * Answer calls of tools hidden from the caller with the refusal they are (unauthenticated,
   * permission_denied) rather than not_found, revealing that they exist (default false).
   */
  readonly revealHiddenTools?: boolean;
  /** Serve TLS (HTTP/2 and HTTP/1.1 negotiated by ALPN) with this PEM certificate and key. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Largest request message accepted on Connect, gRPC and gRPC-Web, in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Largest request body on plain HTTP routes such as /mcp, in bytes (default: maxBodyBytes). */
  readonly maxPlainBodyBytes?: number;
  /** Rate limiter for manifests' rateLimit and the request limits (default: in memory). */
  readonly rateLimiter?: ToolRateLimiter;
  /** Server-wide request budgets per caller and per anonymous address. */
  readonly requestLimits?: RequestLimits;
  /** Concurrent calls per tool when its manifest sets none (default: unlimited). */
  readonly defaultMaxConcurrency?: number;
  /** Deepest nesting of tool arguments (default 32). */
  readonly maxArgumentDepth?: number;
  /** Longest a server stream stays open, in ms (default 3 600 000). */
  readonly maxStreamDurationMs?: number;
  /** Idle HTTP/1.1 keep-alive connections and HTTP/2 sessions close after this long, in ms (default 30 000). */
  readonly idleTimeoutMs?: number;
  /** Largest request header block, in bytes (default 16 384). */
  readonly maxHeaderBytes?: number;
  /** HTTP/2 streams one client may have open at once (default 256). */
  readonly maxConcurrentStreams?: number;
  /** Host header values served (DNS rebinding protection); default: loopback names on loopback, any otherwise. */
  readonly allowedHosts?: readonly string[];
  /** Browser origins allowed cross-origin (CORS); "*" allows any; default none. */
  readonly corsOrigins?: readonly string[];
  /**
   * Balancers (addresses or CIDR ranges) whose X-Forwarded-For names the client, for per-address
   * limits and logs, and to which a draining server refuses HTTP/1.1 tool calls by closing the
   * connection unanswered (so the balancer retries them elsewhere) rather than with a 503; default none.
   */
  readonly trustedProxies?: readonly string[];
  /** Observers of every call (metrics, events, audit). */
  readonly observers?: readonly CallObserver[];
  /** How long shutdown waits for running calls before aborting them, in ms (default 10 000). */
  readonly shutdownGraceMs?: number;
  /** Time limit for tools whose manifest sets none, in ms (default 30 000). */
  readonly defaultTimeoutMs?: number;
  /** Time a client has to send its request headers, in ms (default 10 000). */
  readonly headersTimeoutMs?: number;
  /** Time a client has to deliver a request's whole body, in ms (default 30 000); slower bodies get deadline_exceeded. */
  readonly requestBodyTimeoutMs?: number;
  /** Connections served at once (default 10 000); requests on connections past it get unavailable, and past twice it the port stops accepting. */
  readonly maxConnections?: number;
  /** Structured logger (default: silent). */
  readonly logger?: Logger;
  /** This instance's id in events and server info (default: a random UUID). */
  readonly serverId?: string;
  /** Extra surfaces on the same port: Connect services and plain HTTP routes. */
  readonly extensions?: readonly ServerExtensionFactory[];
}

/** A running (or ready to run) Toolwire server. */
export interface ToolwireServer {
  /** The tool registry; register and unregister tools at any time. */
  readonly registry: ToolRegistry;
  /** The call pipeline every surface goes through. */
  readonly pipeline: CallPipeline;
  /** This instance's id. */
  readonly serverId: string;
  /** Starts listening; resolves with the address once ready (extensions hear it first, see {@link ServerExtension.listening}). */
  listen(): Promise<ServerAddress>;
  /**
   * Graceful shutdown: the port stops taking connections at once (a balancer's connect is refused
   * and it tries another instance), open HTTP/2 connections are retired without dropping a request
   * their client may be sending (see {@link retireSession}), HTTP/1.1 tool calls get unavailable
   * (503, Connection: close; a trusted proxy's connection is closed unanswered instead), /health
   * turns 503, admitted requests get up to `graceMs` to be answered (then running calls' signals
   * abort), then every connection is closed. Calling it again returns the same promise.
   */
  close(graceMs?: number): Promise<void>;
  /** Base URL once listening, e.g. http://127.0.0.1:8081. */
  readonly url: string;
}


/** Creates a Toolwire server: every surface on one port, one pipeline behind them. */
export function createToolwireServer(options: ToolwireServerOptions = {}): ToolwireServer {
  const logger = options.logger ?? pino({ level: "silent" });
  const registry = options.registry ?? createToolRegistry();
  for (const tool of options.tools ?? []) registry.register(tool);
  const pipeline = createServerPipeline(options, registry, logger);
  const startedAt = Date.now();
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const requestBodyTimeoutMs = options.requestBodyTimeoutMs ?? 30_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
  const maxConnections = options.maxConnections ?? 10_000;
  const listenHost = options.host ?? "127.0.0.1";
  const originPolicy = createOriginPolicy({ listenHost, allowedHosts: options.allowedHosts, corsOrigins: options.corsOrigins });

  // CallToolStream responses still open, which monitoring reports.
  const streams: StreamTracker = { open: 0 };
  // Every request admitted by the edge and not yet answered: shutdown waits for it to reach zero.
  const inFlight = createInFlight();
  const serverId = options.serverId ?? randomUUID();
  let url = "";
  let closing: Promise<void> | undefined;
  const context: ServerContext = {
    serverId,
    registry,
    pipeline,
    logger,
    startedAt,
    streams,
    maxBodyBytes: options.maxPlainBodyBytes ?? maxBodyBytes,
    maxStreamDurationMs: options.maxStreamDurationMs ?? 3_600_000,
    get url() {
      return url;
    },
    get shuttingDown() {
      return closing !== undefined;
    },
  };
  const extensions: ServerExtension[] = (options.extensions ?? []).map((create) => create(context));
  const services = [ToolService, ...extensions.flatMap((e) => e.services ?? [])];

  const connect = createConnectHandler({
    routes: (router) => {
      router.service(ToolService, createToolService(registry, pipeline, streams));
      for (const extension of extensions) extension.routes?.(router);
    },
    readMaxBytes: maxBodyBytes,
    // curl users should not need the Connect-Protocol-Version header.
    requireConnectProtocolHeader: false,
    // A misspelt field is a caller bug worth reporting, not something to drop silently.
    jsonOptions: { ignoreUnknownFields: false },
    contextValues: (req) => createContextValues().set(peerAddressKey, clientAddressOf(req)),
  });
  const plainRoutes = createPlainRoutes({
    routes: extensionRoutes(extensions),
    services,
    health: () => healthReport(),
  });

  const lifecycle = createConnectionLifecycle({ idleTimeoutMs, maxConnections });
  const isTrustedProxy = createTrustedProxyMatcher(options.trustedProxies ?? []);
  const gate = createRequestGate(services);
  const guards: EdgeGuard[] = [
    headerSizeGuard(maxHeaderBytes),
    ...(options.trustedProxies?.length ? [clientAddressGuard(createClientAddressResolver(isTrustedProxy))] : []),
    connectionCapGuard(lifecycle.isOverCap, maxConnections),
    drainGuard({ draining: () => closing !== undefined, isTrustedProxy }),
    hostGuard(originPolicy),
    originGuard(originPolicy),
    gate.guard,
  ];
  const handler = createEdgeHandler({
    guards,
    decorators: [corsDecorator(originPolicy), cachingDecorator(gate.isRpcPath)],
    inFlight,
    requestBodyTimeoutMs,
    route: (req, res) => connect(req, res) ?? plainRoutes(req, res),
    logger,
  });
  const { listener, http1 } = createHttpListener({
    tls: options.tls,
    headersTimeoutMs,
    // node's own whole-request limit only backs ours up: it answers a bare 408.
    requestTimeoutMs: headersTimeoutMs + requestBodyTimeoutMs + 1_000,
    idleTimeoutMs,
    maxHeaderBytes,
    maxConcurrentStreams: options.maxConcurrentStreams ?? 256,
    hardMaxConnections: maxConnections * 2,
    lifecycle,
    handler,
  });

  function healthReport(): HealthReport {
    let degraded: string | undefined;
    for (const extension of extensions) degraded ??= extension.degradedReason?.();
    const status = closing !== undefined ? "draining" : degraded === undefined ? "serving" : "degraded";
    const reason = closing !== undefined ? "shutting down: running calls finish, new ones are refused" : degraded;
    return {
      status,
      ...(reason === undefined ? {} : { reason }),
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      tools: registry.size,
      inFlight: pipeline.inFlight,
    };
  }

  async function shutdown(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    const remaining = () => Math.max(0, deadline - Date.now());
    logger.info({ inFlight: pipeline.inFlight, graceMs }, "shutting down: draining calls");
    // A refused connect is the one failure every balancer retries elsewhere, since nothing was
    // sent yet. The port is free for a replacement at once; accepted connections stay open.
    listener.close();
    for (const extension of extensions) extension.shutdown?.();
    // Open HTTP/2 connections are told to go away without losing a request in flight; HTTP/1.1
    // tool calls are refused from now on (drainGuard). Requests already admitted are answered.
    await lifecycle.retireSessions();
    await waitAtMost(inFlight.idle(), remaining());
    // Calls still running at the deadline are aborted; their answers then go out.
    await pipeline.drain(remaining());
    await waitAtMost(inFlight.idle(), Math.max(remaining(), answerAfterAbortMs));
    http1.close(ignoreNotRunning);
    lifecycle.closeSessions();
    // Every answer is out; a connection still open a second later (an idle keep-alive over TLS,
    // a stuck peer) has nothing left to receive and is cut.
    await lifecycle.closeSockets(1_000);
    for (const extension of extensions) await extension.close?.();
    logger.info("shut down");
  }

  return {
    registry,
    pipeline,
    serverId,
    get url() {
      return url;
    },
    listen() {
      return new Promise((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(options.port ?? 8081, listenHost, () => {
          listener.off("error", reject);
          const address = listener.address() as AddressInfo;
          const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
          url = `${options.tls ? "https" : "http"}://${host}:${address.port}`;
          // The HTTP/1.1 server gets its connections from the listener and never listens itself;
          // "listening" is what starts its header and request timeout checks.
          http1.emit("listening");
          const ready: ServerAddress = { url, host: address.address, port: address.port };
          for (const extension of extensions) extension.listening?.(ready);
          logger.info({ url, tools: registry.size }, "toolwire listening");
          if (options.allowedHosts === undefined && isUnspecifiedHost(listenHost)) {
            logger.warn(
              { host: listenHost },
              "listening on every interface without server.allowedHosts: only loopback connections are protected against DNS rebinding; list the names clients use",
            );
          }
          resolve(ready);
        });
      });
    },
    close(graceMs = options.shutdownGraceMs ?? 10_000) {
      closing ??= shutdown(graceMs);
      return closing;
    },
  };
}

/** The call pipeline of a server, logging refusals and handler failures to the server's logger. */
function createServerPipeline(options: ToolwireServerOptions, registry: ToolRegistry, logger: Logger): CallPipeline {
  return createCallPipeline({
    registry,
    authenticate: options.authenticate,
    revealHiddenTools: options.revealHiddenTools,
    defaultTimeoutMs: options.defaultTimeoutMs,
    rateLimiter: options.rateLimiter,
    requestLimits: options.requestLimits,
    defaultMaxConcurrency: options.defaultMaxConcurrency,
    maxArgumentDepth: options.maxArgumentDepth,
    maxStreamDurationMs: options.maxStreamDurationMs,
    observers: options.observers,
    onObserverError: (error) => logger.error({ err: error }, "call observer threw"),
    onRefused: (caller, error) =>
      logger.warn(
        { protocol: caller.protocol, peer: caller.peer, code: codeName(error.code), reason: error.rawMessage },
        "request refused",
      ),
    onHandlerError: (tool, requestId, error) =>
      logger.error({ err: error, tool: tool.name, version: tool.version, requestId }, "tool handler threw"),
  });
}

/** The extensions' plain HTTP routes by path; two claiming one path is a programming error. */
function extensionRoutes(extensions: readonly ServerExtension[]): Map<string, PlainRouteHandler> {
  const routes = new Map<string, PlainRouteHandler>();
  for (const extension of extensions) {
    for (const [path, route] of Object.entries(extension.httpRoutes ?? {})) {
      if (path === "/health" || routes.has(path)) throw new Error(`two surfaces claim the route ${path}`);
      routes.set(path, route);
    }
  }
  return routes;
}

/** Records the client a trusted balancer names in X-Forwarded-For; it never refuses. */
function clientAddressGuard(resolve: ReturnType<typeof createClientAddressResolver>): EdgeGuard {
  return (req) => {
    const client = resolve(req.socket?.remoteAddress, req.headers["x-forwarded-for"]);
    if (client !== undefined && client !== req.socket?.remoteAddress) rememberClientAddress(req, client);
    return undefined;
  };
}

/** How long answers of calls aborted at the end of the grace period get to go out, in ms. */
const answerAfterAbortMs = 1_000;

function ignoreNotRunning(): void {
  // http1 never listened itself (the listener did), so its close() reports "not running"; its
  // pre-close step — closing idle connections and stopping the timeout checks — is what we need.
}
