import { Code, ConnectError } from "@connectrpc/connect";
import { toWebRequest } from "@modelcontextprotocol/node";
import {
  createMcpHandler,
  isInitializeRequest,
  isJsonContentType,
  PROTOCOL_VERSION_META_KEY,
  type AuthInfo,
  type ServerContext as McpServerContext,
} from "@modelcontextprotocol/server";
import type { CallerInfo } from "../runtime/caller.js";
import { anonymousPrincipal, type Principal } from "../security/principal.js";
import { callerFromRequest } from "../server/caller-info.js";
import type {
  PlainRequest,
  PlainServerResponse,
  ServerContext,
  ServerExtension,
  ServerExtensionFactory,
} from "../server/server-extension.js";
import { createHostGuard, type HostGuardOptions } from "./host-guard.js";
import { createLegacySessions, type LegacySessionLimits, type LegacySessions } from "./legacy-sessions.js";
import { McpErrorCode, jsonRpcErrorOf, retryAfterOf } from "./mcp-errors.js";
import { readBody, writeJsonRpcError, writeResponse } from "./node-bridge.js";
import { refuseMessage } from "./request-check.js";
import { createPipelineToolSource } from "./pipeline-tool-source.js";
import { cancelledRequestIdOf, createStatelessCancellation, requestIdOf } from "./stateless-cancellation.js";
import { createToolServerFactory } from "./tool-server.js";
import type { McpIdentity } from "./tool-source.js";

/** Options of {@link createMcpEndpoint}. */
export interface McpEndpointOptions extends HostGuardOptions {
  /** URL path of the endpoint (default "/mcp"). */
  readonly path?: string | undefined;
  /**
   * Sessions for 2025-era clients: off by default, so every request can go to any instance. When
   * on, an `initialize` opens a session (within the limits), which lets those clients cancel a
   * running call wherever it runs, set a log level with `logging/setLevel`, and receive
   * `notifications/tools/list_changed` on their GET stream. Without a session their cancellation
   * reaches a call only on the instance running it; `logging` is not offered. The 2026-07-28
   * revision needs none of this: it cancels by closing the request, names a log level on each
   * request and listens with `subscriptions/listen`.
   */
  readonly sessions?: boolean | LegacySessionLimits | undefined;
  /** Tools per `tools/list` page (default 100, at most 500). */
  readonly pageSize?: number | undefined;
  /** How to use this server, for the client's model. */
  readonly instructions?: string | undefined;
  /** Interval of SSE keep-alive comments on open streams, in ms (default 15 000; 0 turns them off). */
  readonly keepAliveMs?: number | undefined;
}

const identityKey = "toolwire/identity";

/** Where the endpoint keeps who is calling, in the auth info the SDK passes through to handlers. */
function identityOf(ctx: McpServerContext): McpIdentity {
  const identity = ctx.http?.authInfo?.extra?.[identityKey] as McpIdentity | undefined;
  // Every request the endpoint serves carries one; anything else gets the least privilege.
  return identity ?? { caller: { headers: new Headers(), protocol: "mcp" }, principal: anonymousPrincipal };
}

/**
 * Serves every tool of the server over MCP Streamable HTTP at /mcp, through the same call
 * pipeline as Connect and gRPC. Both protocol generations of the official SDK are served: the
 * stateless 2026-07-28 revision and the 2025-era `initialize` flow (stateless by default, with
 * optional bounded sessions). Requests are checked before the SDK sees them: Host and Origin
 * (DNS rebinding), credentials (401 with `WWW-Authenticate: Bearer`), body size (413) and
 * shutdown (503).
 */
export function createMcpEndpoint(options: McpEndpointOptions = {}): ServerExtensionFactory {
  return (ctx) => mcpEndpoint(ctx, options);
}

function mcpEndpoint(ctx: ServerContext, options: McpEndpointOptions): ServerExtension {
  const { pipeline, registry, logger } = ctx;
  const path = options.path ?? "/mcp";
  const source = createPipelineToolSource(registry, pipeline, { pageSize: options.pageSize });
  const factory = createToolServerFactory(source, {
    identify: identityOf,
    instructions: options.instructions,
    onError: (err) => logger.error({ err }, "MCP request failed"),
  });
  // The SDK serves 2025-era requests without a session on instances of their own (era "legacy").
  const handler = createMcpHandler((request) => factory({ statelessLegacy: request.era === "legacy" }), {
    maxRequestBodySize: ctx.maxBodyBytes,
    ...(options.keepAliveMs === undefined ? {} : { keepAliveMs: options.keepAliveMs }),
    onerror: (err) => {
      // The SDK reports both requests it refused (a client's fault) and its own failures.
      if (/^(Rejected|Unsupported|Bad Request|Not Acceptable|Method not allowed|Parse error|Invalid)/i.test(err.message)) {
        logger.debug({ err }, "MCP request refused");
      } else {
        logger.warn({ err }, "MCP request failed");
      }
    },
  });
  const sessionLimits = options.sessions === true ? {} : options.sessions === false ? undefined : options.sessions;
  const sessions: LegacySessions | undefined =
    sessionLimits === undefined
      ? undefined
      : createLegacySessions({
          ...sessionLimits,
          factory,
          keepAliveMs: options.keepAliveMs,
          onWarning: (message, err) => logger.warn({ err }, message),
        });
  const statelessCalls = createStatelessCancellation();
  const guard = createHostGuard(options);
  // Streams that stay open until the client leaves (listens, GET streams): ended when shutdown begins.
  const longLived = new Set<AbortController>();

  // A burst of registry changes (a plugin directory loading) becomes one notification.
  let changePending = false;
  const unsubscribe = source.onToolsChanged?.(() => {
    if (changePending) return;
    changePending = true;
    setImmediate(() => {
      changePending = false;
      handler.notify.toolsChanged();
      sessions?.toolsChanged();
    });
  });

  async function serve(req: PlainRequest, res: PlainServerResponse): Promise<void> {
    const refusal = guard?.(req);
    if (refusal !== undefined) {
      writeJsonRpcError(req, res, 403, { code: McpErrorCode.ServerError, message: refusal, data: { code: "permission_denied" } });
      return;
    }
    const method = req.method ?? "GET";
    if (method !== "POST" && method !== "GET" && method !== "DELETE") {
      writeJsonRpcError(
        req,
        res,
        405,
        { code: McpErrorCode.ServerError, message: `${method} is not supported on ${path}; MCP clients POST JSON-RPC messages here` },
        { allow: "GET, POST, DELETE" },
      );
      return;
    }
    // Refused from the moment shutdown begins: the requests already admitted are still drained
    // (the pipeline refuses new calls only once they are answered).
    if (ctx.shuttingDown) {
      writeUnavailable(req, res);
      return;
    }
    let parsedBody: unknown;
    if (method === "POST") {
      const contentType = req.headers["content-type"];
      if (!isJsonContentType(contentType)) {
        writeJsonRpcError(req, res, 415, {
          code: McpErrorCode.ServerError,
          message: `unsupported content-type ${JSON.stringify((contentType ?? "").slice(0, 100))}; send JSON-RPC as application/json`,
        });
        return;
      }
      const body = await readBody(req, ctx.maxBodyBytes);
      if (!body.ok) {
        if (body.tooLarge) {
          writeJsonRpcError(
            req,
            res,
            413,
            { code: McpErrorCode.ServerError, message: `request body is larger than the server's limit of ${ctx.maxBodyBytes} bytes` },
            { connection: "close" },
          );
        }
        return;
      }
      try {
        parsedBody = JSON.parse(body.text);
      } catch (err) {
        writeJsonRpcError(req, res, 400, {
          code: -32700,
          message: `Parse error: the request body is not valid JSON (${(err as Error).message})`,
        });
        return;
      }
      const refusal = refuseMessage(parsedBody);
      if (refusal !== undefined) {
        writeJsonRpcError(req, res, 400, refusal.error, {}, refusal.id);
        return;
      }
    }

    const caller = callerFromRequest(req, "mcp");
    // A tools/call is authenticated (and counted against the caller's request budget) by the
    // pipeline itself, and refused in-band; every other request is authenticated here, where a
    // bad credential can still be answered with HTTP 401.
    let principal: Principal | undefined;
    if (!isMethod(parsedBody, "tools/call")) {
      try {
        principal = await pipeline.authenticate(caller);
      } catch (err) {
        refuse(req, res, err);
        return;
      }
    }

    const controller = new AbortController();
    let written = false;
    res.once("close", () => {
      if (!written) controller.abort();
    });
    // The body was read and parsed above and goes to the SDK as parsedBody: the web request is
    // built from the drained stream, so it carries none to copy or parse again.
    const request = await toWebRequest(req, undefined, { signal: controller.signal, maxRequestBodySize: ctx.maxBodyBytes });
    // A client gone already (while the body was read, the caller authenticated) has nobody to
    // answer, and the SDK, listening for an abort that already happened, would run its call anyway.
    if (res.destroyed || controller.signal.aborted) return;
    const identity: McpIdentity = { caller, principal };
    const authInfo: AuthInfo = {
      // No token travels this way: the pipeline reads credentials from the caller's headers.
      token: "",
      clientId: principal?.id ?? "",
      scopes: [],
      extra: { [identityKey]: identity },
    };
    const requestOptions = { authInfo, ...(parsedBody === undefined ? {} : { parsedBody }) };
    const longLivedExchange = method === "GET" || isMethod(parsedBody, "subscriptions/listen");
    // Shutdown lets answers still being written finish; long-lived streams are ended instead, and
    // after the server's longest stream duration too, so clients reconnect somewhere alive.
    let streamLimit: NodeJS.Timeout | undefined;
    if (longLivedExchange) {
      longLived.add(controller);
      streamLimit = setTimeout(() => controller.abort(), ctx.maxStreamDurationMs);
    } else {
      ctx.streams.open++;
    }
    let release = () => {};
    const sessionId = req.headers["mcp-session-id"];
    const forget = sessions === undefined || typeof sessionId !== "string" ? cancelStatelessly(caller, parsedBody, controller) : noop;
    try {
      let response: Response | undefined;
      if (sessions !== undefined && typeof sessionId === "string") {
        const served = await sessions.serve(sessionId, principal?.id, request, requestOptions);
        if (served === undefined) {
          writeJsonRpcError(req, res, 404, {
            code: -32001,
            message: "Session not found: it ended or belongs to another server instance; initialize a new session",
          });
          return;
        }
        if (served === "forbidden") {
          writeJsonRpcError(req, res, 403, {
            code: McpErrorCode.PermissionDenied,
            message: "this session belongs to another caller; initialize a session of your own",
            data: { code: "permission_denied" },
          });
          return;
        }
        ({ response, release } = served);
      } else if (sessions !== undefined && principal !== undefined && isInitializeRequest(parsedBody)) {
        const opened = await sessions.open(principal.id, request, requestOptions);
        if (opened !== undefined) ({ response, release } = opened);
      }
      response ??= await handler.fetch(request, requestOptions);
      await writeResponse(req, res, response, controller.signal);
    } finally {
      written = true;
      forget();
      release();
      clearTimeout(streamLimit);
      if (longLivedExchange) longLived.delete(controller);
      else ctx.streams.open--;
    }
  }

  /**
   * Lets a 2025-era client served without a session cancel a call: its `tools/call` is tracked
   * until answered (the returned function forgets it), and its `notifications/cancelled`, which
   * the SDK would hand to a fresh instance that never ran the call, aborts the tracked exchange.
   */
  function cancelStatelessly(caller: CallerInfo, body: unknown, controller: AbortController): () => void {
    if (isModern(body)) return noop;
    if (isMethod(body, "tools/call")) {
      const id = requestIdOf(body);
      if (id !== undefined) return statelessCalls.track(caller, id, controller);
    } else if (isMethod(body, "notifications/cancelled")) {
      const id = cancelledRequestIdOf(body);
      if (id !== undefined && statelessCalls.cancel(caller, id)) logger.debug({ jsonRpcId: id }, "MCP call cancelled by the client");
    }
    return noop;
  }

  /** Answers a request refused before the SDK saw it, with the HTTP status its error calls for. */
  function refuse(req: PlainRequest, res: PlainServerResponse, err: unknown): void {
    if (!(err instanceof ConnectError)) {
      logger.error({ err }, "MCP authentication failed");
      writeJsonRpcError(req, res, 500, { code: McpErrorCode.InternalError, message: "the server failed to authenticate the request; its log has the details" });
      return;
    }
    const error = jsonRpcErrorOf(err);
    switch (err.code) {
      case Code.Unauthenticated:
        writeJsonRpcError(req, res, 401, error, { "www-authenticate": bearerChallenge(err.rawMessage) });
        return;
      case Code.Unavailable:
        writeUnavailable(req, res);
        return;
      case Code.PermissionDenied:
        writeJsonRpcError(req, res, 403, error);
        return;
      case Code.ResourceExhausted:
        writeJsonRpcError(req, res, 429, error, { "retry-after": String(retryAfterOf(err) ?? 1) });
        return;
      default:
        writeJsonRpcError(req, res, 400, error);
    }
  }

  function writeUnavailable(req: PlainRequest, res: PlainServerResponse): void {
    writeJsonRpcError(
      req,
      res,
      503,
      { code: McpErrorCode.ServerError, message: "server is shutting down; retry on another instance", data: { code: "unavailable" } },
      { "retry-after": "1" },
    );
  }

  return {
    httpRoutes: { [path]: serve },
    shutdown() {
      for (const controller of longLived) controller.abort();
      sessions?.endStreams();
    },
    async close() {
      unsubscribe?.();
      await handler.close();
      await sessions?.close();
    },
  };
}

function noop(): void {}

function isMethod(body: unknown, method: string): boolean {
  return typeof body === "object" && body !== null && (body as { method?: unknown }).method === method;
}

/** Whether a message claims the 2026-07-28 revision, whose clients cancel by closing the request. */
function isModern(body: unknown): boolean {
  const params = typeof body === "object" && body !== null ? (body as { params?: unknown }).params : undefined;
  const meta = typeof params === "object" && params !== null ? (params as { _meta?: unknown })._meta : undefined;
  return typeof meta === "object" && meta !== null && PROTOCOL_VERSION_META_KEY in meta;
}

/**
 * A `WWW-Authenticate: Bearer` challenge (RFC 6750) for credentials that were refused, its
 * description reduced to what a quoted string may hold.
 */
function bearerChallenge(description: string): string {
  const safe = description.replace(/[^\x20-\x7e]/g, "?").replace(/["\\]/g, "'").slice(0, 300);
  return `Bearer realm="toolwire", error="invalid_token", error_description="${safe}"`;
}
