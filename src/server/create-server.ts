import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2Session, type Http2Stream } from "node:http2";
import { createServer as createTlsServer } from "node:tls";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { pino, type Logger } from "pino";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import type { AnyToolDefinition } from "../registry/define-tool.js";
import { createToolRegistry, type ToolRegistry } from "../registry/tool-registry.js";
import { createCallPipeline, type CallObserver, type CallPipeline, type RequestLimits } from "../runtime/call-pipeline.js";
import { codeName } from "../runtime/code-name.js";
import { shuttingDown } from "../runtime/errors.js";
import { createOriginPolicy, isUnspecifiedHost } from "../security/origin-policy.js";
import type { ToolRateLimiter } from "../security/rate-limit.js";
import type { Authenticator } from "../runtime/caller.js";
import { version } from "../version.js";
import { clientAddressOf, peerAddressKey, rememberClientAddress } from "./caller-info.js";
import { createClientAddressResolver, createTrustedProxyMatcher } from "../security/forwarded-for.js";
import { writeHealth, writeJsonError, type PlainResponse } from "./health.js";
import { finAfterPeer } from "./fin-after-peer.js";
import { createProtocolSniffer } from "./protocol-sniffer.js";
import { createRequestGate } from "./request-gate.js";
import { createToolService, type StreamTracker } from "./tool-service.js";
import type { PlainRouteHandler, ServerContext, ServerExtension, ServerExtensionFactory } from "./server-extension.js";

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
  /** Starts listening; resolves with the address once ready. */
  listen(): Promise<{ readonly url: string; readonly host: string; readonly port: number }>;
  /**
   * Graceful shutdown: the port stops taking connections at once (a balancer's connect is refused
   * and it tries another instance), open HTTP/2 connections are retired without dropping a request
   * their client may be sending (see {@link retireSession}), HTTP/1.1 tool calls get unavailable
   * (503, Connection: close; a trusted proxy's connection is closed unanswered instead), /health
   * turns 503, running calls get up to `graceMs` to finish (then their signals abort), then every
   * connection is closed. Calling it again returns the same promise.
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
  const pipeline = createCallPipeline({
    registry,
    authenticate: options.authenticate,
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
  const startedAt = Date.now();
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
  const maxConcurrentStreams = options.maxConcurrentStreams ?? 256;
  const listenHost = options.host ?? "127.0.0.1";
  const originPolicy = createOriginPolicy({ listenHost, allowedHosts: options.allowedHosts, corsOrigins: options.corsOrigins });

  // Streams whose last messages may still be on their way out when the pipeline has drained.
  const streams: StreamTracker = { open: 0 };
  // ToolService requests let in and not yet answered.
  let admitted = 0;
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
  const httpRoutes = new Map<string, PlainRouteHandler>();
  for (const extension of extensions) {
    for (const [path, route] of Object.entries(extension.httpRoutes ?? {})) {
      if (path === "/health" || httpRoutes.has(path)) throw new Error(`two surfaces claim the route ${path}`);
      httpRoutes.set(path, route);
    }
  }
  const services = [ToolService, ...extensions.flatMap((e) => e.services ?? [])];

  const connectHandler = connectNodeAdapter({
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
    fallback: (req, res) => fallback(req, res),
  });

  const gate = createRequestGate(services);
  const isTrustedProxy = createTrustedProxyMatcher(options.trustedProxies ?? []);
  const resolveClientAddress = options.trustedProxies?.length ? createClientAddressResolver(isTrustedProxy) : undefined;
  const handler: typeof connectHandler = (req, res) => {
    // Node enforces the header cap on HTTP/1.1 (431) but only advertises it on HTTP/2.
    if (req.httpVersionMajor === 2 && headerBytes(req.rawHeaders) > maxHeaderBytes) {
      writeJsonError(res, 431, "resource_exhausted", `request headers are larger than the server's limit of ${maxHeaderBytes} bytes`);
      return;
    }
    if (resolveClientAddress !== undefined) {
      const client = resolveClientAddress(req.socket?.remoteAddress, req.headers["x-forwarded-for"]);
      if (client !== undefined && client !== req.socket?.remoteAddress) rememberClientAddress(req, client);
    }
    if (req.url?.startsWith("/toolwire.v1.ToolService/") === true) {
      // HTTP/1.1 tool calls are refused while draining. HTTP/2 ones are served: one can only
      // arrive on a connection that has not been retired yet, and its client may have sent it
      // before it could know (nginx's grpc_pass cannot resend a request body), so refusing it
      // would lose it.
      if (closing !== undefined && req.httpVersionMajor !== 2) {
        if (isTrustedProxy(req.socket?.remoteAddress)) {
          // A balancer retries a call whose connection closed unanswered on another instance
          // (nginx's proxy_next_upstream error, Envoy's retry_on reset), as it does for a pooled
          // connection the instance closed. A 503 would do too, but only if the balancer retried
          // every 503, and counted it against the instance: a tool's own unavailable answers would
          // then take healthy instances out of rotation.
          req.socket.destroy();
          return;
        }
        refuseWhileDraining(req, res);
        return;
      }
      // Admitted: it runs to the end (within the grace period), so no call is refused after it
      // was let in, when a balancer can no longer retry it.
      admitted++;
      res.once("close", () => admitted--);
    }
    const host = req.headers.host ?? req.headers[":authority"];
    const hostRefusal = originPolicy.checkHost(typeof host === "string" ? host : undefined, req.socket?.localAddress);
    if (hostRefusal !== undefined) {
      writeJsonError(res, 403, "permission_denied", hostRefusal);
      return;
    }
    const origin = req.headers.origin;
    const verdict = originPolicy.checkOrigin(origin, typeof host === "string" ? host : undefined);
    if (verdict === "refused") {
      writeJsonError(
        res,
        403,
        "permission_denied",
        `Origin "${(origin ?? "").slice(0, 200)}" may not call this server; allow it in server.corsOrigins in the config`,
      );
      return;
    }
    if (verdict === "cors" && origin !== undefined) {
      if (req.method === "OPTIONS") {
        res.writeHead(204, originPolicy.preflightHeaders(origin));
        res.end();
        return;
      }
      for (const [name, value] of Object.entries(originPolicy.corsHeaders(origin))) res.setHeader(name, value);
    }
    const refusal = gate(req);
    if (refusal !== undefined) {
      writeJsonError(res, refusal.status, refusal.code, refusal.message, refusal.headers);
      return;
    }
    connectHandler(req, res);
  };

  function fallback(req: IncomingMessage | Http2ServerRequest, res: PlainResponse): void {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        writeJsonError(res, 405, "unimplemented", `${req.method} /health is not supported; use GET`, { allow: "GET, HEAD" });
        return;
      }
      let degraded: string | undefined;
      for (const extension of extensions) degraded ??= extension.degradedReason?.();
      writeHealth(
        res,
        {
          status: closing !== undefined ? "draining" : degraded === undefined ? "serving" : "degraded",
          ...(closing !== undefined ? { reason: "shutting down: running calls finish, new ones are refused" } : degraded === undefined ? {} : { reason: degraded }),
          version,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          tools: registry.size,
          inFlight: pipeline.inFlight,
        },
        req.method === "HEAD",
      );
      return;
    }
    const route = path === undefined ? undefined : httpRoutes.get(path);
    if (route !== undefined) {
      runRoute(route, req, res as Parameters<PlainRouteHandler>[1]);
      return;
    }
    const rpcRoots = services.map((s) => `/${s.typeName}/`).join(", ");
    const plain = ["/health", ...httpRoutes.keys()].join(", ");
    // An RPC-shaped path of a service or method we lack is "unimplemented", as Connect and gRPC
    // clients expect; anything else is a plain 404.
    const code = /^\/[\w.]+\.[\w]+\/\w+$/.test(path ?? "") ? "unimplemented" : "not_found";
    writeJsonError(res, 404, code, `no route for ${req.method} ${path}; RPCs live under ${rpcRoots} and plain HTTP at ${plain}`);
  }

  function runRoute(route: PlainRouteHandler, req: IncomingMessage | Http2ServerRequest, res: Parameters<PlainRouteHandler>[1]): void {
    const fail = (err: unknown) => {
      logger.error({ err, path: req.url }, "plain HTTP route failed");
      if (!res.headersSent) writeJsonError(res, 500, "internal", "the server failed to answer this request; its log has the details");
      else res.destroy();
    };
    try {
      const done = route(req, res);
      if (done !== undefined) done.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  // Requests (streams) not yet closed on each session, which decide how it is retired.
  const openStreams = new WeakMap<Http2Session, Set<Http2Stream>>();
  // Sessions being retired by close(), which waits for all of them.
  const retirements = new Set<Promise<void>>();
  const retire = (session: Http2Session) => {
    retirements.add(retireSession(session, openStreams.get(session) ?? new Set(), retireFallbackMs));
  };
  const trackSession = (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    const open = new Set<Http2Stream>();
    openStreams.set(session, open);
    session.on("stream", (stream: Http2Stream) => {
      open.add(stream);
      stream.once("close", () => open.delete(stream));
    });
    // A session with no traffic for the idle time is closed gracefully (open streams finish).
    session.setTimeout(idleTimeoutMs, () => session.close());
    // A connection accepted just before the port closed may start its session during the drain.
    if (closing !== undefined) retire(session);
  };
  // One HTTP/1.1 and one HTTP/2 server behind every connection, with TLS or without, so both
  // get the same header, request and idle timeouts and the same limits.
  const h1: HttpServer = createHttpServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: 300_000,
      keepAliveTimeout: idleTimeoutMs,
      maxHeaderSize: maxHeaderBytes,
      // How often the timeouts above are checked.
      connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
    },
    handler,
  );
  const h2 = createHttp2Server({ settings: { maxConcurrentStreams, maxHeaderListSize: maxHeaderBytes }, maxHeaderListPairs: 256 }, handler);
  h2.on("session", trackSession);
  // An HTTP/2 connection's FIN waits for the peer's, so no frame the peer still owes is cut.
  h2.on("connection", (socket: Socket) => finAfterPeer(socket, peerCloseWaitMs));
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  let listener: NetServer;
  if (options.tls !== undefined) {
    // ALPN picks the protocol; the handshake must finish within the header timeout.
    listener = createTlsServer(
      { cert: options.tls.cert, key: options.tls.key, ALPNProtocols: ["h2", "http/1.1"], handshakeTimeout: headersTimeoutMs },
      (socket) => {
        track(socket);
        (socket.alpnProtocol === "h2" ? h2 : h1).emit("connection", socket);
      },
    );
    listener.on("tlsClientError", (_err: Error, socket: Socket) => socket.destroy());
  } else {
    listener = createProtocolSniffer({ http1: h1, http2: h2, firstByteTimeoutMs: headersTimeoutMs });
    listener.on("connection", track);
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
          // The HTTP/1.1 server gets its connections from the sniffer and never listens itself;
          // "listening" is what starts its header and request timeout checks.
          h1.emit("listening");
          logger.info({ url, tools: registry.size }, "toolwire listening");
          if (options.allowedHosts === undefined && isUnspecifiedHost(listenHost)) {
            logger.warn(
              { host: listenHost },
              "listening on every interface without server.allowedHosts: only loopback connections are protected against DNS rebinding; list the names clients use",
            );
          }
          resolve({ url, host: address.address, port: address.port });
        });
      });
    },
    close(graceMs = options.shutdownGraceMs ?? 10_000) {
      closing ??= (async () => {
        const deadline = Date.now() + graceMs;
        logger.info({ inFlight: pipeline.inFlight, graceMs }, "shutting down: draining calls");
        // A refused connect is the one failure every balancer retries elsewhere, since nothing was
        // sent yet. The port is free for a replacement at once; accepted connections stay open.
        listener.close();
        for (const extension of extensions) extension.shutdown?.();
        // Open HTTP/2 connections are told to go away without losing a request in flight; HTTP/1.1
        // tool calls are refused from now on (503, or a trusted proxy's connection closed
        // unanswered). Calls already let in finish first.
        for (const session of sessions) retire(session);
        await Promise.all(retirements);
        await until(() => admitted === 0, deadline);
        await pipeline.drain(Math.max(0, deadline - Date.now()));
        // A stream's queued messages may still be on their way out: let them finish. (Unary
        // answers are written as their call settles; HTTP/2 sessions close gracefully.)
        await until(() => streams.open === 0, deadline);
        h1.close(ignoreNotRunning);
        for (const session of sessions) session.close();
        // A connection accepted just before the port closed may have had a call let in after the
        // waits above; its answer must not be cut.
        await until(() => admitted === 0 && streams.open === 0, deadline);
        // Every answer is out; a connection still open a second later (an idle keep-alive over
        // TLS, a stuck peer) has nothing left to receive and is cut.
        await until(() => sockets.size === 0, Date.now() + 1_000);
        for (const socket of sockets) socket.destroy();
        for (const extension of extensions) await extension.close?.();
        logger.info("shut down");
      })();
      return closing;
    },
  };
}

/**
 * Longest the server's side of a closed HTTP/2 connection stays open waiting for the peer to close
 * its side, in ms (see {@link finAfterPeer}). Go's HTTP/2 server likewise gives a peer one second
 * after its final GOAWAY.
 */
const peerCloseWaitMs = 1_000;

/**
 * Longest a draining server spends retiring one idle HTTP/2 connection, in ms: waiting for its
 * last responses to finish and for the peer to answer the PING {@link retireSession} sends. After
 * that the final GOAWAY goes out anyway (a peer that neither answers nor closes in this time is
 * not sending anything either).
 */
const retireFallbackMs = 1_000;

/**
 * Retires an HTTP/2 session during shutdown without losing a request its client may be sending,
 * and resolves once the final GOAWAY is out or the session is gone. The connection itself closes
 * once the peer has closed its side (see {@link finAfterPeer}).
 *
 * Node cannot send the "please go away" GOAWAY gRPC servers use (last stream id 2^31-1): once any
 * GOAWAY is sent, nghttp2 silently ignores every new stream, which then hangs. And nginx's
 * grpc_pass, which sends one request per upstream connection at a time and cannot resend one, takes
 * a GOAWAY naming a lower stream than its request as a failed request. So a GOAWAY goes out only
 * when nginx cannot be sending a request on the connection:
 * - while a response is not ended: the GOAWAY is queued ahead of its end, so nginx reads it during
 *   that request and does not reuse the connection;
 * - when a request arrives: it is served, and the GOAWAY names it;
 * - when the connection is idle (its last response out), only after two PINGs answered in a row
 *   with no request between them: nginx closes an idle pooled connection as soon as anything
 *   arrives on it, and a request it sent before reading a PING arrives ahead of its answer. nginx
 *   also answers a PING that arrives with the end of a response and may then reuse the connection;
 *   the second PING then either closes it or follows that request. Other clients answer both.
 */
function retireSession(session: Http2Session, openStreams: ReadonlySet<Http2Stream>, fallbackMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed || session.destroyed) {
      resolve();
      return;
    }
    const watched = new Set<Http2Stream>();
    let pings = 0;
    let done = false;
    const goAway = () => {
      done = true;
      clearTimeout(timer);
      session.off("stream", goAway);
      session.off("close", goAway);
      for (const stream of watched) stream.off("close", next);
      if (!session.closed && !session.destroyed) session.close();
      resolve();
    };
    const next = () => {
      if (session.closed || session.destroyed) return goAway();
      const streams = [...openStreams];
      if (streams.some((stream) => !stream.writableEnded)) return goAway();
      if (streams.length > 0) {
        // Ended responses may already be out: wait until they are before the PING.
        for (const stream of streams) {
          if (watched.has(stream)) continue;
          watched.add(stream);
          stream.once("close", next);
        }
        return;
      }
      if (pings > 0) return;
      ping();
    };
    const ping = () => {
      if (done) return;
      pings++;
      // A failure means the session went away: no request can be on its way.
      const sent = session.ping((err) => (err !== null || pings >= 2 ? goAway() : ping()));
      if (!sent) goAway();
    };
    const timer = setTimeout(goAway, fallbackMs);
    session.once("stream", goAway);
    session.once("close", goAway);
    next();
  });
}

/**
 * Refuses an HTTP/1.1 tool call from a direct client while draining with HTTP 503 in every
 * protocol (gRPC-Web's trailers-only answer carries grpc-status UNAVAILABLE too), with a message
 * saying to retry on another instance.
 */
function refuseWhileDraining(req: IncomingMessage | Http2ServerRequest, res: PlainResponse & { setHeader(name: string, value: string): unknown }): void {
  const message = shuttingDown().rawMessage;
  // The client (nginx's keep-alive pool) must not send its next call on this connection: its new
  // one is refused by the closed port and goes to another instance straight away.
  res.setHeader("connection", "close");
  const contentType = req.headers["content-type"] ?? "";
  if (contentType.startsWith("application/grpc")) {
    res.writeHead(503, { "content-type": contentType.split(";", 1)[0] ?? "application/grpc", "grpc-status": "14", "grpc-message": encodeURIComponent(message) });
    res.end();
    return;
  }
  writeJsonError(res, 503, "unavailable", message);
}

/** Size of a header list as HTTP/2 counts it: names, values and 32 bytes of overhead each. */
function headerBytes(rawHeaders: readonly string[]): number {
  let size = 0;
  for (const item of rawHeaders) size += item.length;
  return size + 16 * rawHeaders.length;
}

/** Resolves once `done()` holds or the deadline (epoch ms) passes, checking every 20 ms. */
async function until(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ignoreNotRunning(): void {
  // h1 never listened itself (the sniffer did), so its close() reports "not running"; its
  // pre-close step — closing idle connections and stopping the timeout checks — is what we need.
}
