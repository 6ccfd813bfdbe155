import type { OriginPolicy } from "../security/origin-policy.js";
import type { TrustedProxyMatcher } from "../security/forwarded-for.js";
import { shuttingDown } from "../runtime/errors.js";
import type { EdgeRequest, Refusal } from "./refusal.js";

/**
 * One check of the HTTP edge: looks at a request and returns why it is refused (or answered
 * here, like a CORS preflight), or undefined to pass it on. Guards run in order; the first
 * refusal is written by {@link writeRefusal}. A guard never writes to the response itself.
 */
export type EdgeGuard = (req: EdgeRequest) => Refusal | undefined;

/**
 * Adds response headers to a request that passed every guard (CORS, caching), or returns
 * undefined to add none.
 */
export type EdgeDecorator = (req: EdgeRequest) => Readonly<Record<string, string>> | undefined;

/** The request's authority: HTTP/2's :authority, else the Host header. */
export function requestAuthority(req: EdgeRequest): string | undefined {
  const value = req.headers[":authority"] ?? req.headers.host;
  return typeof value === "string" ? value : undefined;
}

/**
 * Refuses an HTTP/2 header block over the cap. Node enforces the cap on HTTP/1.1 (431) but only
 * advertises it on HTTP/2.
 */
export function headerSizeGuard(maxHeaderBytes: number): EdgeGuard {
  const refusal: Refusal = {
    status: 431,
    code: "resource_exhausted",
    message: `request headers are larger than the server's limit of ${maxHeaderBytes} bytes`,
  };
  return (req) => (req.httpVersionMajor === 2 && headerBytes(req.rawHeaders) > maxHeaderBytes ? refusal : undefined);
}

/** Whether the connection a request came on is over the server's connection cap. */
export type OverCapCheck = (req: EdgeRequest) => boolean;

/**
 * Refuses requests on connections accepted over `limits.maxConnections` with unavailable and
 * closes them, so a client retries later or elsewhere instead of the server running out of sockets.
 */
export function connectionCapGuard(isOverCap: OverCapCheck, maxConnections: number): EdgeGuard {
  const refusal: Refusal = {
    status: 503,
    code: "unavailable",
    message: `the server has reached its limit of ${maxConnections} open connections (limits.maxConnections); retry shortly`,
    headers: { "retry-after": "1" },
    closeConnection: true,
  };
  return (req) => (isOverCap(req) ? refusal : undefined);
}

/** Options of {@link drainGuard}. */
export interface DrainGuardOptions {
  /** Whether shutdown has begun. */
  readonly draining: () => boolean;
  /** Balancers whose connections are closed unanswered instead of answered 503. */
  readonly isTrustedProxy: TrustedProxyMatcher;
}

/**
 * Refuses HTTP/1.1 tool calls once shutdown has begun. HTTP/2 ones are served: one can only arrive
 * on a connection that has not been retired yet, and its client may have sent it before it could
 * know (nginx's grpc_pass cannot resend a request body), so refusing it would lose it.
 *
 * A trusted balancer's connection is closed unanswered: balancers retry a call whose connection
 * closed unanswered on another instance (nginx's proxy_next_upstream error, Envoy's retry_on
 * reset). A 503 would do too only if the balancer retried every 503 and counted it against the
 * instance: a tool's own unavailable answers would then take healthy instances out of rotation.
 */
export function drainGuard(options: DrainGuardOptions): EdgeGuard {
  const message = shuttingDown().rawMessage;
  const reset: Refusal = { status: 503, code: "unavailable", message, reset: true };
  // The client (a keep-alive pool) must not send its next call on this connection: the new
  // connection is refused by the closed port and goes to another instance straight away.
  const refusal: Refusal = { status: 503, code: "unavailable", message, headers: { "retry-after": "1" }, closeConnection: true };
  return (req) => {
    if (!options.draining() || req.httpVersionMajor === 2 || req.url?.startsWith("/toolwire.v1.ToolService/") !== true) return undefined;
    return options.isTrustedProxy(req.socket?.remoteAddress) ? reset : refusal;
  };
}

/** Refuses Host names the server does not serve (DNS rebinding) and Host values that are no authority. */
export function hostGuard(policy: OriginPolicy): EdgeGuard {
  return (req) => {
    const host = requestAuthority(req);
    if (host !== undefined && !isAuthority(host)) {
      return { status: 400, code: "invalid_argument", message: `the Host header "${host.slice(0, 200)}" is not a host name or address with an optional port` };
    }
    const message = policy.checkHost(host, req.socket?.localAddress);
    return message === undefined ? undefined : { status: 403, code: "permission_denied", message };
  };
}

/** Refuses browser origins the config does not allow, and answers allowed CORS preflights. */
export function originGuard(policy: OriginPolicy): EdgeGuard {
  return (req) => {
    const origin = req.headers.origin;
    const verdict = policy.checkOrigin(origin, requestAuthority(req));
    if (verdict === "refused") {
      return {
        status: 403,
        code: "permission_denied",
        message: `Origin "${(origin ?? "").slice(0, 200)}" may not call this server; allow it in server.corsOrigins in the config`,
      };
    }
    if (verdict === "cors" && origin !== undefined && req.method === "OPTIONS") {
      return { status: 204, code: "ok", message: "", headers: policy.preflightHeaders(origin), empty: true };
    }
    return undefined;
  };
}

/** Adds CORS response headers for an allowed cross-origin request. */
export function corsDecorator(policy: OriginPolicy): EdgeDecorator {
  return (req) => {
    const origin = req.headers.origin;
    return origin !== undefined && policy.checkOrigin(origin, requestAuthority(req)) === "cors" ? policy.corsHeaders(origin) : undefined;
  };
}

const credentialHeaders = ["authorization", "x-api-key"] as const;

/**
 * Marks Connect GET answers (ListTools, GetTool, GetStats, GetServerInfo) as depending on the
 * caller: `Vary` on the credential headers for every cache, and `Cache-Control: private` when the
 * request carries credentials, so a shared cache never hands one caller's answer to another.
 */
export function cachingDecorator(isRpcPath: (path: string) => boolean): EdgeDecorator {
  const vary = { vary: "Authorization, X-API-Key" };
  const privateAnswer = { ...vary, "cache-control": "private" };
  return (req) => {
    if (req.method !== "GET" || !isRpcPath(pathOf(req.url))) return undefined;
    return credentialHeaders.some((name) => req.headers[name] !== undefined) ? privateAnswer : vary;
  };
}

/** The path of a request target, without its query. */
export function pathOf(url: string | undefined): string {
  const target = url ?? "/";
  const query = target.indexOf("?");
  return query === -1 ? target : target.slice(0, query);
}

// connect-node builds the request URL from the authority; a value new URL() refuses (or one that
// smuggles user info, a path or a query) is no authority.
function isAuthority(value: string): boolean {
  return value.length <= 255 && !/[@/?#\\\s]/.test(value) && URL.canParse(`http://${value}/`);
}

/** Size of a header list as HTTP/2 counts it: names, values and 32 bytes of overhead each. */
function headerBytes(rawHeaders: readonly string[]): number {
  let size = 0;
  for (const item of rawHeaders) size += item.length;
  return size + 16 * rawHeaders.length;
}
