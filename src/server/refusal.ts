import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as h2, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { Code } from "@connectrpc/connect";
import { codeName } from "../runtime/code-name.js";

/** Why the edge answers a request itself instead of passing it on. */
export interface Refusal {
  /** HTTP status (gRPC answers use 200; see {@link writeRefusal}). */
  readonly status: number;
  /** Connect error code name, e.g. "permission_denied". */
  readonly code: string;
  /** What is wrong and what to send instead, for a person reading curl output. */
  readonly message: string;
  /** Extra response headers (Allow, Accept-Post, Retry-After, CORS preflight headers). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Answer with no body at all (a CORS preflight's 204). */
  readonly empty?: boolean;
  /** Close the request's connection (HTTP/1.1) or stream (HTTP/2) unanswered, so a balancer retries it. */
  readonly reset?: boolean;
  /** Close the connection after the answer (HTTP/1.1 `Connection: close`). */
  readonly closeConnection?: boolean;
}

/** A request as node:http or node:http2's compatibility API delivers it. */
export type EdgeRequest = IncomingMessage | Http2ServerRequest;

/** A response as node:http or node:http2's compatibility API delivers it. */
export type EdgeResponse = ServerResponse | Http2ServerResponse;

const grpcCodes = new Map<string, number>(
  Object.entries(Code)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number")
    .map(([, value]) => [codeName(value), value]),
);

/**
 * The one way the edge writes a refusal. Connect and plain HTTP clients get a Connect error JSON
 * body with the HTTP status; gRPC and gRPC-Web clients get a trailers-only answer whose
 * grpc-status and grpc-message carry the code and text, with HTTP 200: gRPC clients read them
 * only then, and gRPC-Web clients take the code from any other status (400 would read as
 * internal). A gRPC-Web 503 stays 503: balancers act on it, and its code is unavailable anyway.
 */
export function writeRefusal(req: EdgeRequest, res: EdgeResponse, refusal: Refusal): void {
  if (refusal.reset === true) {
    resetRequest(req);
    return;
  }
  if (res.headersSent) {
    // Too late to answer: the client learns from the cut that the answer is incomplete.
    resetRequest(req);
    return;
  }
  const headers: Record<string, string | number> = { ...refusal.headers };
  if (refusal.closeConnection === true && req.httpVersionMajor === 1) headers.connection = "close";
  if (refusal.empty === true) {
    res.writeHead(refusal.status, headers);
    res.end();
    return;
  }
  const contentType = headerValue(req.headers["content-type"]);
  if (/^application\/grpc(-web)?([+;]|$)/i.test(contentType)) {
    headers["content-type"] = contentType.split(";", 1)[0] ?? "application/grpc";
    headers["grpc-status"] = grpcCodes.get(refusal.code) ?? Code.Unknown;
    headers["grpc-message"] = encodeURIComponent(refusal.message);
    const keep503 = refusal.status === 503 && /^application\/grpc-web/i.test(contentType);
    res.writeHead(keep503 ? 503 : 200, headers);
    res.end();
    if (refusal.closeConnection === true && "stream" in req) req.stream.session?.close();
    return;
  }
  const body = JSON.stringify({ code: refusal.code, message: refusal.message });
  headers["content-type"] = "application/json";
  headers["content-length"] = Buffer.byteLength(body);
  res.writeHead(refusal.status, headers);
  res.end(body);
  if (refusal.closeConnection === true && "stream" in req) req.stream.session?.close();
}

/** Cuts a request without an answer: its HTTP/2 stream, or its HTTP/1.1 connection. */
export function resetRequest(req: EdgeRequest): void {
  if ("stream" in req) {
    if (!req.stream.destroyed) req.stream.close(h2.NGHTTP2_REFUSED_STREAM);
    return;
  }
  req.socket.destroy();
}

function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? "";
}
