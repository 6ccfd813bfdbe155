import type { FuzzCase } from "./arbitraries.js";
import type { Answer } from "./answer.js";

/** Connect error codes, as they appear in JSON error bodies. */
const connectCodes = new Set([
  "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists", "permission_denied",
  "resource_exhausted", "failed_precondition", "aborted", "out_of_range", "unimplemented", "internal", "unavailable",
  "data_loss", "unauthenticated",
]);

/** Text that only a stack trace or a source location would put into an answer. */
const leakPatterns = [/\n\s+at [^\n]*\(/, /\bat (?:file:\/\/|\/)[^\s]+:\d+/, /[\w-]+\.[cm]?[tj]s:\d+:\d+/, /node_modules/, /\w*Error: [^\n]*\n\s+at /];

/** Whether a request method is an HTTP token a server must parse (anything else is malformed). */
const tokenMethod = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Whether the case breaks HTTP itself (not just the application protocol): a parser may then
 * refuse it with a bare 400 or close the connection without an answer.
 */
export function malformedHttp(c: FuzzCase): boolean {
  if (!tokenMethod.test(c.method)) return true;
  if (c.host === "garbage" || c.host === "duplicate" || (c.host === "missing" && c.wire !== "http/1.0")) return true;
  if (c.host === "empty" && c.wire.startsWith("h2")) return true;
  if (c.framing === "bad-chunked" && c.wire.startsWith("http/")) return true;
  if (c.wire.startsWith("http/") && (c.framing === "chunked" || c.framing === "bad-chunked") && c.wire === "http/1.0") return true;
  if (c.wire === "h2-frames" && c.frameFault !== "none") return true;
  if (c.target === "*" || !c.target.startsWith("/")) return true;
  // Header values with bytes outside visible ASCII, names with a capital letter on HTTP/2.
  if (c.headers.some(([name, value]) => /[^\x20-\x7e\t]/.test(value) || !tokenMethod.test(name) || value !== value.trim())) return true;
  return false;
}

/** Whether the server cannot have seen a whole request. */
export function incomplete(c: FuzzCase): boolean {
  return c.cut !== "none" || c.framing === "short" || (c.wire === "h2-frames" && (c.frameFault === "truncated-frame" || c.frameFault === "rst-then-data"));
}

/**
 * Checks one answer: undefined when it is well formed, else what is wrong with it. A client's
 * mistake must be refused with the surface's own error shape, never with internal (HTTP 500,
 * grpc-status 13, JSON-RPC -32603), and nothing in any answer may look like a stack trace or a
 * source file path.
 */
export function checkAnswer(c: FuzzCase, answer: Answer, requestText: string): string | undefined {
  switch (answer.kind) {
    case "cut":
    case "unsendable":
      return undefined;
    case "refused":
      return `connection refused: ${answer.detail ?? ""}`;
    case "no-answer":
      // Node closes a CONNECT request's connection when no one listens for tunnels.
      return incomplete(c) || malformedHttp(c) || c.method === "CONNECT" ? undefined : `no answer to a complete request (${answer.detail ?? ""})`;
    case "answered":
      break;
  }
  if (answer.frames !== undefined) return checkFrames(c, answer);
  const body = answer.body.toString("latin1");
  // A tool answers what it is asked (list_processes shows command lines, paths included); what
  // must never show is the server's own failure, so error answers are the ones read for it.
  if (isErrorAnswer(answer, body)) {
    for (const pattern of leakPatterns) {
      const match = pattern.exec(body)?.[0];
      if (match !== undefined && !requestText.includes(match.trim())) return `the answer shows a stack trace or source path (${JSON.stringify(match)}): ${clip(body)}`;
    }
  }
  const status = answer.status ?? 0;
  if (status === 500 || status === 502 || status === 503) return `HTTP ${status} to a client's request: ${clip(body)}`;
  const path = c.target.split("?", 1)[0] ?? "";
  const type = answer.headers["content-type"]?.[0] ?? "";
  if (status >= 400) return checkErrorBody(c, answer, path, type, body);
  if (/^application\/grpc-web/i.test(type)) return checkGrpcWeb(answer);
  // HTTP/1.0 has no trailers to carry grpc-status in.
  if (/^application\/grpc/i.test(type)) return c.wire === "http/1.0" ? undefined : checkGrpc(answer);
  if (/^application\/connect\+/i.test(type)) return checkConnectStream(answer);
  if (path === "/mcp" && status === 200) return checkJsonRpc(type, body, answer.streaming);
  return undefined;
}

/** Whether an answer reports an error: by status, grpc-status, a JSON-RPC error or an isError result. */
function isErrorAnswer(answer: Answer, body: string): boolean {
  const grpcStatus = answer.trailers["grpc-status"]?.[0] ?? answer.headers["grpc-status"]?.[0] ?? "0";
  return (answer.status ?? 0) >= 400 || grpcStatus !== "0" || /"error"\s*:/.test(body) || /"isError"\s*:\s*true/.test(body) || body.includes("grpc-status:");
}

function checkFrames(c: FuzzCase, answer: Answer): string | undefined {
  const f = answer.frames;
  if (f === undefined) return undefined;
  if (f.status500) return "HTTP/2 answer with :status 500";
  if (f.rst === 2) return "RST_STREAM INTERNAL_ERROR";
  // Node ends a session its peer broke at the frame level with GOAWAY INTERNAL_ERROR (nghttp2's
  // own PROTOCOL_ERROR is not passed on): the connection's business, not the application's.
  if (f.goaway === 2 && c.frameFault === "none") return "GOAWAY INTERNAL_ERROR";
  return undefined;
}

function checkErrorBody(c: FuzzCase, answer: Answer, path: string, type: string, body: string): string | undefined {
  if (body.length === 0) {
    // A parser's own refusal (Node's bare 400, 413, 431): only for requests that break HTTP.
    if (c.method === "HEAD" || [400, 413, 414, 417, 431, 505].includes(answer.status ?? 0)) return undefined;
    if (answer.streaming) return undefined;
    return `HTTP ${answer.status} with an empty body`;
  }
  if (/^application\/grpc/i.test(type)) return /^application\/grpc-web/i.test(type) ? checkGrpcWeb(answer) : checkGrpc(answer);
  if (!/^application\/json/i.test(type)) return `HTTP ${answer.status} error with content-type ${JSON.stringify(type)}: ${clip(body)}`;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return `HTTP ${answer.status} error body is not JSON: ${clip(body)}`;
  }
  if (path === "/mcp" && isRecord(json) && "jsonrpc" in json) return checkJsonRpcMessage(json);
  if (!isRecord(json) || typeof json.code !== "string" || typeof json.message !== "string") return `error body is not {code, message}: ${clip(body)}`;
  if (!connectCodes.has(json.code)) return `error code ${JSON.stringify(json.code)} is no Connect code`;
  if (json.code === "internal") return `internal error for a client's request: ${clip(body)}`;
  return undefined;
}

function checkGrpcStatus(value: string | undefined, message: string | undefined): string | undefined {
  if (value === undefined) return "gRPC answer without grpc-status";
  if (!/^\d{1,2}$/.test(value) || Number(value) > 16) return `grpc-status ${JSON.stringify(value)} is not a status code`;
  if (value === "13") return `grpc-status 13 (internal) for a client's request: ${message ?? ""}`;
  return undefined;
}

function checkGrpc(answer: Answer): string | undefined {
  const status = answer.trailers["grpc-status"]?.[0] ?? answer.headers["grpc-status"]?.[0];
  if (status === undefined && answer.streaming) return undefined;
  return checkGrpcStatus(status, answer.trailers["grpc-message"]?.[0] ?? answer.headers["grpc-message"]?.[0]);
}

function checkGrpcWeb(answer: Answer): string | undefined {
  const inHeaders = answer.headers["grpc-status"]?.[0];
  if (inHeaders !== undefined) return checkGrpcStatus(inHeaders, answer.headers["grpc-message"]?.[0]);
  const trailer = envelopes(answer.body).find((e) => (e.flags & 0x80) !== 0);
  if (trailer === undefined) return answer.streaming ? undefined : "gRPC-Web answer without a trailer frame or grpc-status";
  const text = trailer.data.toString("latin1");
  const status = /grpc-status:\s*(\S*)/i.exec(text)?.[1];
  return checkGrpcStatus(status, /grpc-message:\s*([^\r\n]*)/i.exec(text)?.[1]);
}

function checkConnectStream(answer: Answer): string | undefined {
  const end = envelopes(answer.body).find((e) => (e.flags & 0x02) !== 0);
  if (end === undefined) return answer.streaming ? undefined : "Connect stream without an end-stream message";
  let json: unknown;
  try {
    json = JSON.parse(end.data.toString("utf8"));
  } catch {
    return `Connect end-stream message is not JSON: ${clip(end.data.toString("latin1"))}`;
  }
  if (!isRecord(json)) return "Connect end-stream message is not an object";
  if (json.error === undefined) return undefined;
  if (!isRecord(json.error) || typeof json.error.code !== "string" || !connectCodes.has(json.error.code)) return `Connect end-stream error is malformed: ${clip(JSON.stringify(json))}`;
  if (json.error.code === "internal") return `Connect end-stream internal error: ${clip(JSON.stringify(json))}`;
  return undefined;
}

function checkJsonRpc(type: string, body: string, streaming: boolean): string | undefined {
  const messages: unknown[] = [];
  try {
    if (/^text\/event-stream/i.test(type)) {
      for (const line of body.split("\n")) if (line.startsWith("data: ") && line.length > 6) messages.push(JSON.parse(line.slice(6)));
    } else if (/^application\/json/i.test(type)) {
      const json: unknown = JSON.parse(body);
      messages.push(...(Array.isArray(json) ? json : [json]));
    } else if (body.length > 0) {
      return `MCP answer with content-type ${JSON.stringify(type)}`;
    }
  } catch {
    // The last event of a stream cut by the client may be partial.
    if (!streaming) return `MCP answer is not JSON: ${clip(body)}`;
  }
  for (const message of messages) {
    const wrong = checkJsonRpcMessage(message);
    if (wrong !== undefined) return wrong;
  }
  return undefined;
}

function checkJsonRpcMessage(message: unknown): string | undefined {
  if (!isRecord(message) || message.jsonrpc !== "2.0") return `not a JSON-RPC 2.0 message: ${clip(JSON.stringify(message))}`;
  if (message.error === undefined) return undefined;
  const error = message.error;
  if (!isRecord(error) || !Number.isInteger(error.code) || typeof error.message !== "string") return `malformed JSON-RPC error: ${clip(JSON.stringify(message))}`;
  if (error.code === -32603) return `JSON-RPC internal error (-32603) for a client's request: ${clip(JSON.stringify(message))}`;
  return undefined;
}

function envelopes(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  let offset = 0;
  while (offset + 5 <= body.length) {
    const length = body.readUInt32BE(offset + 1);
    const flags = body[offset] ?? 0;
    out.push({ flags, data: body.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clip(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
