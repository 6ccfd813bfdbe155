import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Node error codes that mean the connection failed or broke, as opposed to the server answering
 * an error. connect-node maps some of them to unavailable and others (a reset) to aborted.
 */
const connectionErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** Whether `error` (or an error in its cause chain) is a failed or broken connection. */
export function isConnectionFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && connectionErrorCodes.has(code)) return true;
    if (/socket hang up|stream closed with error code NGHTTP2_REFUSED_STREAM/i.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether `error` proves the request never reached a server's handler: the connection was
 * refused, or the HTTP/2 stream was refused unprocessed (REFUSED_STREAM, as after a GOAWAY).
 * Such a call can be sent again whatever it does, since it did nothing.
 */
export function wasNeverSent(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    if ((current as { code?: unknown }).code === "ECONNREFUSED") return true;
    if (/NGHTTP2_REFUSED_STREAM/.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether a failed call is worth trying again, on this server or another: the server said
 * unavailable (it is draining or overloaded) or the connection failed. Cancellation and deadlines
 * are the caller's decision and never count.
 */
export function isTransientFailure(error: unknown): boolean {
  const ce = ConnectError.from(error);
  if (ce.code === Code.Canceled || ce.code === Code.DeadlineExceeded) return false;
  return ce.code === Code.Unavailable || isConnectionFailure(error);
}
