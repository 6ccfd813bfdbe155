import { Code, ConnectError, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalHandler, type UniversalServerRequest, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/**
 * Answers a request connect-es cannot decode as the caller's mistake. connect-es shares its
 * parser with clients, where an undecodable message is the server's fault, so it reports garbage
 * protobuf, a message nested past the decoder's limit and a compressed envelope without an
 * encoding as internal, with no hook to say otherwise; an internal error also looks to callers
 * (and retry policies) like something worth retrying, which it is not.
 */
export interface DecodeErrors {
  /** Router interceptor; must come first, so that it runs whenever an implementation is entered. */
  readonly interceptor: Interceptor;
  /** Wraps the handler of one RPC, created by the router that has {@link DecodeErrors.interceptor}. */
  wrap(handler: UniversalHandler): UniversalHandler;
}

/** Creates the interceptor and handler wrapper that answer undecodable requests with invalid_argument. */
export function createDecodeErrors(): DecodeErrors {
  // Requests whose interceptors ran. A unary request is decoded before that, so an internal
  // error of one that never got there is a decode failure, while one after it is the
  // implementation's own (which may well say "parse binary:" and must stay internal).
  const reached = new WeakSet<ContextValues>();
  return {
    interceptor: (next) => (req) => {
      reached.add(req.contextValues);
      if (!req.stream) return next(req);
      // A streaming request is decoded while the implementation reads it: only what its input
      // throws is the caller's, so that is where it is translated (before it is serialized).
      const describe = describeRequest(req.method.input.typeName, req.header, req.requestMethod);
      return next({ ...req, message: translateInput(req.message, describe) });
    },
    wrap: (handler) =>
      Object.assign(async (req: UniversalServerRequest) => {
        const res = await handler(req);
        if (req.contextValues === undefined || reached.has(req.contextValues)) return res;
        return rewriteUnaryError(req, res, describeRequest(handler.method.input.typeName, req.header, req.method));
      }, handler),
  };
}

/** Turns a decode failure into invalid_argument; undefined for any other error. */
type Describe = (error: ConnectError) => ConnectError | undefined;

function describeRequest(typeName: string, header: Headers, method: string): Describe {
  const contentType = header.get("content-type")?.split(";", 1)[0]?.trim() ?? "";
  const where = method === "GET" ? "the message query parameter" : "the request body";
  const encodingHeader = contentType.startsWith("application/connect")
    ? "connect-content-encoding"
    : contentType.startsWith("application/grpc")
      ? "grpc-encoding"
      : "content-encoding";
  return (error) => {
    if (error.code !== Code.Internal) return undefined;
    if (error.rawMessage.startsWith("parse binary: ")) {
      const reason = error.rawMessage.slice("parse binary: ".length);
      return new ConnectError(`${where} is not a valid ${typeName} in ${contentType || "binary protobuf"}: ${reason}`, Code.InvalidArgument);
    }
    // connect-node says this of request bodies only (it never decompresses on a server's behalf
    // otherwise); it knows the name of the zlib error but not which of them the caller caused.
    if (error.rawMessage === "decompression failed") {
      const encoding = header.get(encodingHeader);
      const named = encoding === null ? "its compression" : `${encodingHeader}: ${encoding}`;
      return new ConnectError(`${where} cannot be decompressed with ${named}`, Code.InvalidArgument);
    }
    if (error.rawMessage.startsWith("received compressed envelope")) {
      return new ConnectError(`a request message is flagged compressed, but the request has no ${encodingHeader} header`, Code.InvalidArgument);
    }
    return undefined;
  };
}

async function* translateInput<I>(input: AsyncIterable<I>, describe: Describe): AsyncIterable<I> {
  try {
    yield* input;
  } catch (e) {
    throw (e instanceof ConnectError ? describe(e) : undefined) ?? e;
  }
}

/**
 * Rewrites the error answer of a unary call that failed before its implementation, in the shape
 * of each protocol: a Connect JSON body, gRPC trailers, or the gRPC-Web trailer frame. An answer
 * compressed for the client is left alone: an error this short is never compressed.
 */
async function rewriteUnaryError(req: UniversalServerRequest, res: UniversalServerResponse, describe: Describe): Promise<UniversalServerResponse> {
  if (res.trailer !== undefined) {
    // gRPC: the status is in the trailers, already set when the handler resolves.
    const error = findTrailerError(res.trailer);
    const mistake = error && describe(error);
    if (mistake) setTrailerStatus(res.trailer, mistake);
    return res;
  }
  if (res.body === undefined || res.header?.has("content-encoding") === true) return res;
  const grpcWeb = req.header.get("content-type")?.startsWith("application/grpc-web") === true;
  if (!grpcWeb && res.status !== codeToHttpStatus(Code.Internal)) return res;
  const bytes = await readAll(res.body);
  const body = (data: Uint8Array) => ({ ...res, body: single(data) });
  if (!grpcWeb) {
    const mistake = describe(errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Unknown)));
    if (!mistake) return body(bytes);
    const json = errorToJsonBytes(mistake, {});
    res.header?.set("content-length", String(json.byteLength));
    return { ...body(json), status: codeToHttpStatus(mistake.code) };
  }
  // gRPC-Web: with no implementation output, the body is the one (uncompressed) trailer frame.
  if (bytes[0] !== trailerFlag) return body(bytes);
  const trailer = trailerParse(bytes.subarray(5));
  const error = findTrailerError(trailer);
  const mistake = error && describe(error);
  if (!mistake) return body(bytes);
  return body(encodeEnvelope(trailerFlag, trailerSerialize(setTrailerStatus(trailer, mistake))));
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* single(data: Uint8Array): AsyncIterable<Uint8Array> {
  yield data;
}
