import type { IncomingHttpHeaders } from "node:http";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { CallerInfo } from "../runtime/caller.js";

/** Context value carrying the remote address of the connection. */
export const peerAddressKey = createContextKey<string | undefined>(undefined, { description: "peer address" });

type SocketRequest = { readonly socket?: { readonly remoteAddress?: string | undefined } | null };

// Requests whose client a trusted proxy named (server.trustedProxies); most requests have none.
const forwardedClients = new WeakMap<object, string>();

/** Records the client address a trusted proxy forwarded for `req`. */
export function rememberClientAddress(req: object, address: string): void {
  forwardedClients.set(req, address);
}

/** The client's address: the one a trusted proxy forwarded, else the socket's. */
export function clientAddressOf(req: SocketRequest): string | undefined {
  return forwardedClients.get(req) ?? req.socket?.remoteAddress;
}

/** What the pipeline needs to know about the caller of a Connect/gRPC/gRPC-Web request. */
export function callerFromContext(ctx: HandlerContext): CallerInfo {
  return { headers: ctx.requestHeader, peer: ctx.values.get(peerAddressKey), protocol: ctx.protocolName };
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's x-request-id when it is a sane token, so ids can be traced end to end. */
export function requestIdFromContext(ctx: HandlerContext): string | undefined {
  const id = ctx.requestHeader.get("x-request-id");
  return id !== null && requestIdPattern.test(id) ? id : undefined;
}

/** What the pipeline needs to know about the caller of a plain HTTP request (/events, /mcp). */
export function callerFromRequest(
  req: SocketRequest & { readonly headers: IncomingHttpHeaders },
  protocol: string,
): CallerInfo {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (":path") are not request headers.
    if (value === undefined || name.startsWith(":")) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return { headers, peer: clientAddressOf(req), protocol };
}
