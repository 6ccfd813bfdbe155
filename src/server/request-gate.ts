import type { IncomingHttpHeaders } from "node:http";
import type { Refusal } from "./refusal.js";
import type { DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";

/** The part of a request the gate looks at. */
export interface GatedRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

const supportedContentType = /^application\/(json|proto|connect\+(json|proto)|grpc(-web)?(\+(json|proto))?)$/i;
const acceptPost = "application/json, application/proto, application/grpc, application/grpc-web";
const base64Chars = /^[A-Za-z0-9_\-+/]*={0,2}$/;

/** The request gate of a server's RPCs. */
export interface RequestGate {
  /** Refuses malformed RPC requests; passes everything else (other paths included). */
  readonly guard: (req: GatedRequest) => Refusal | undefined;
  /** Whether a path (without query) is one of the server's RPCs. */
  isRpcPath(path: string): boolean;
}

/**
 * Creates the check that runs before the Connect router. connect-node answers several malformed
 * requests with a bare status (415, 405) or an internal error (bad base64 in a Connect GET); the
 * gate answers those with a Connect-shaped JSON error a person can act on. Returns undefined for
 * requests the router should handle.
 */
export function createRequestGate(services: readonly DescService[]): RequestGate {
  const getAllowed = new Set<string>();
  const rpcPaths = new Set<string>();
  const streamingPaths = new Set<string>();
  for (const service of services) {
    for (const method of service.methods) {
      const path = `/${service.typeName}/${method.name}`;
      rpcPaths.add(path);
      if (method.methodKind !== "unary") streamingPaths.add(path);
      if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) getAllowed.add(path);
    }
  }
  const guard = (req: GatedRequest): Refusal | undefined => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query === -1 ? url : url.slice(0, query);
    if (!rpcPaths.has(path)) return undefined;
    const allow = getAllowed.has(path) ? "GET, POST" : "POST";
    if (req.method === "POST") return checkContentType(req.headers["content-type"] ?? "", streamingPaths.has(path));
    if (req.method === "GET" && getAllowed.has(path)) {
      return checkGetContentType(req.headers["content-type"]) ?? checkGetQuery(new URLSearchParams(query === -1 ? "" : url.slice(query + 1)));
    }
    return {
      status: 405,
      code: "unimplemented",
      message: `${req.method ?? "?"} is not allowed for ${path}; use ${allow.replace(", ", " or ")}`,
      headers: { allow },
    };
  };
  return { guard, isRpcPath: (path) => rpcPaths.has(path) };
}

function checkContentType(contentType: string, streaming: boolean): Refusal | undefined {
  const type = mediaType(contentType);
  if (type !== undefined && supportedContentType.test(type)) {
    // Connect unary and Connect streaming have content types of their own; connect-node answers
    // one on the other's methods with a bare 415.
    const connectStreaming = /^application\/connect\+/i.test(type);
    const connectUnary = /^application\/(json|proto)$/i.test(type);
    if (streaming && connectUnary) return wrongConnectKind(contentType, "a streaming method takes application/connect+json or application/connect+proto");
    if (!streaming && connectStreaming) return wrongConnectKind(contentType, "a unary method takes application/json or application/proto");
    return undefined;
  }
  return {
    status: 415,
    code: "invalid_argument",
    message:
      `unsupported content-type "${contentType.slice(0, 100)}"; send application/json (UTF-8) or application/proto ` +
      "(Connect), application/grpc or application/grpc-web",
    headers: { "accept-post": acceptPost },
  };
}

function wrongConnectKind(contentType: string, rule: string): Refusal {
  return {
    status: 415,
    code: "invalid_argument",
    message: `unsupported content-type "${contentType.slice(0, 100)}" for this method: ${rule} (or the gRPC and gRPC-Web types)`,
    headers: { "accept-post": acceptPost },
  };
}

/**
 * The media type of a content type connect-node can take, or undefined: it accepts one
 * parameter, a UTF-8 charset on a JSON type, and answers any other with a bare 415.
 */
function mediaType(contentType: string): string | undefined {
  const [type = "", ...params] = contentType.split(";").map((p) => p.trim());
  const accepted = params.length === 0 || (params.length === 1 && /json$/i.test(type) && /^charset=utf-?8$/i.test(params[0] ?? ""));
  return accepted ? type : undefined;
}

/**
 * A Connect GET names its encoding in the query and needs no content type; any but a Connect
 * unary one (a gRPC or Connect streaming type) means a POST was meant, and connect-node would
 * answer it with a bare 415.
 */
function checkGetContentType(contentType: string | undefined): Refusal | undefined {
  if (contentType === undefined || /^application\/(json|proto)$/i.test(mediaType(contentType) ?? "")) return undefined;
  return {
    status: 415,
    code: "invalid_argument",
    message: `a GET is a Connect unary GET and carries no content type such as "${contentType.slice(0, 100)}"; gRPC, gRPC-Web and streaming calls are POSTs`,
    headers: {},
  };
}

function checkGetQuery(params: URLSearchParams): Refusal | undefined {
  const encoding = params.get("encoding");
  if (encoding !== "json" && encoding !== "proto") {
    return {
      status: 415,
      code: "invalid_argument",
      message: "a Connect GET needs ?encoding=json (or proto) and the request in ?message=…, e.g. ?encoding=json&message=%7B%7D",
      headers: {},
    };
  }
  const message = params.get("message") ?? "";
  if (params.get("base64") === "1" && !base64Chars.test(message)) {
    return { status: 400, code: "invalid_argument", message: "the message parameter is not valid base64 (base64=1 was given)", headers: {} };
  }
  return undefined;
}
