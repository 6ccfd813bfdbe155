import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { clampDeadlineHeaders } from "./deadline-headers.js";
import { createDecodeErrors } from "./decode-errors.js";
import type { EdgeRequest, EdgeResponse } from "./refusal.js";

/** Options of {@link createConnectHandler}. */
export interface ConnectHandlerOptions extends ConnectRouterOptions {
  /** Registers the services. */
  routes(router: ConnectRouter): void;
  /** Context values for a request (the client address). */
  contextValues(req: EdgeRequest): ContextValues;
}

/**
 * Serves one request through the Connect router; resolves once the answer is written. Returns
 * undefined when no RPC has the request's path, so the caller can try other routes.
 */
export type ConnectHandler = (req: EdgeRequest, res: EdgeResponse) => Promise<void> | undefined;

/**
 * Creates the Connect, gRPC and gRPC-Web handler of every RPC, as connect-node's
 * connectNodeAdapter does, except that failures come back to the caller as a rejected promise
 * (for the edge to log and answer) instead of being thrown inside node's request event or
 * printed to stderr, and that a request without Host or :authority (HTTP/1.0 allows that) is
 * served with the local address as its authority, where connect-node would throw, and that a
 * deadline too large for a timer is lowered to the largest one (the tool's own limit applies),
 * and that a request body that cannot be decoded is answered with invalid_argument, not internal.
 */
export function createConnectHandler(options: ConnectHandlerOptions): ConnectHandler {
  const decodeErrors = createDecodeErrors();
  const router = createConnectRouter({
    acceptCompression: [compressionGzip, compressionBrotli],
    ...options,
    interceptors: [decodeErrors.interceptor, ...(options.interceptors ?? [])],
  });
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) handlers.set(handler.requestPath, decodeErrors.wrap(handler));
  return (req, res) => {
    const handler = handlers.get(req.url?.split("?", 1)[0] ?? "");
    if (handler === undefined) return undefined;
    fillAuthority(req);
    clampDeadlineHeaders(req.headers);
    const universal = universalRequestFromNodeRequest(req, res, undefined, options.contextValues(req));
    return handler(universal)
      .then((answer) => universalResponseToNodeResponse(answer, res))
      .catch((reason: unknown) => {
        // The client went away while the answer was being written: nobody is left to tell.
        if (ConnectError.from(reason).code === Code.Aborted) return;
        throw reason;
      });
  };
}

/** Gives a request that names no authority the local address as one. */
function fillAuthority(req: EdgeRequest): void {
  if (req.headers[":authority"] !== undefined || req.headers.host !== undefined) return;
  const address = req.socket?.localAddress ?? "localhost";
  const host = address.includes(":") ? `[${address}]` : address;
  const authority = req.socket?.localPort === undefined ? host : `${host}:${req.socket.localPort}`;
  if (req.httpVersionMajor === 2) req.headers[":authority"] = authority;
  else req.headers.host = authority;
}
