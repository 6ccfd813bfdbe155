import type { PlainRequest, PlainServerResponse } from "../server/server-extension.js";
import type { JsonRpcErrorObject } from "./mcp-errors.js";

/** A request body read within its size limit, or why it could not be. */
export type BodyRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly tooLarge: boolean };

/**
 * Reads a request body, refusing to hold more than `maxBytes`: a declared Content-Length over
 * the limit is refused before anything is read, a longer stream as soon as it passes it.
 */
export async function readBody(req: PlainRequest, maxBytes: number): Promise<BodyRead> {
  if (Number(req.headers["content-length"]) > maxBytes) return { ok: false, tooLarge: true };
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) return { ok: false, tooLarge: true };
      chunks.push(chunk);
    }
  } catch {
    // The client went away mid-body: there is nobody left to answer.
    return { ok: false, tooLarge: false };
  }
  return { ok: true, text: chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks, size).toString("utf8") };
}

// Connection-specific headers are forbidden in HTTP/2 (RFC 9113 §8.2.2); the SDK sets
// "Connection: keep-alive" on its event streams for HTTP/1.1.
const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/**
 * Writes a web-standard Response (from the SDK) to a node response, HTTP/1.1 or HTTP/2. JSON bodies
 * go out in one write with their length; event streams are forwarded as they come, honouring
 * backpressure, until they end, the client leaves or `signal` aborts.
 */
export async function writeResponse(
  req: PlainRequest,
  res: PlainServerResponse,
  response: Response,
  signal: AbortSignal,
): Promise<void> {
  const http2 = req.httpVersionMajor === 2;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!(http2 && hopByHop.has(name))) headers[name] = value;
  });
  const body = response.body;
  const streaming = body !== null && (headers["content-type"] ?? "").startsWith("text/event-stream");
  if (body === null || !streaming) {
    const payload = body === null ? undefined : Buffer.from(await response.arrayBuffer());
    if (payload !== undefined) headers["content-length"] = String(payload.length);
    res.writeHead(response.status, headers);
    if (payload === undefined) res.end();
    else res.end(payload);
    return;
  }
  res.writeHead(response.status, headers);
  const reader = body.getReader();
  const stop = () => void reader.cancel().catch(() => {});
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      if (!(res as { write(chunk: Uint8Array): boolean }).write(value)) await drained(res, signal);
    }
  } catch {
    // The stream failed or was cancelled because the client left; end what can be ended.
  } finally {
    signal.removeEventListener("abort", stop);
    if (!res.writableEnded) res.end();
  }
}

function drained(res: PlainServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Answers with a JSON-RPC error object at the HTTP level, e.g. a 401 or 413. `id` is null unless
 * the request's id was read and usable: most refusals come before the body is read or trusted.
 */
export function writeJsonRpcError(
  req: PlainRequest,
  res: PlainServerResponse,
  status: number,
  error: JsonRpcErrorObject,
  extraHeaders: Record<string, string> = {},
  id: string | number | null = null,
): void {
  const body = JSON.stringify({ jsonrpc: "2.0", error, id });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    ...extraHeaders,
  };
  if (req.httpVersionMajor === 2) delete headers.connection;
  res.writeHead(status, headers);
  res.end(body);
}
