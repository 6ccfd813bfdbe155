import { Code, ConnectError } from "@connectrpc/connect";
import { ProtocolError, type CallToolResult } from "@modelcontextprotocol/server";
import { ArgumentViolationsSchema, ErrorInfoSchema, RetryInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import { codeName } from "../runtime/code-name.js";
import { toolwireMetaKeys } from "./mcp-tool.js";

/**
 * JSON-RPC error codes of Toolwire's MCP surface. Unknown tools and bad parameters use JSON-RPC's
 * own -32602, as the MCP specification says; refusals MCP has no code for use the
 * implementation-defined range (clear of the codes the SDK itself answers, like -32001 for an
 * unknown session), ending in the digits of the matching HTTP status, and each names its Connect
 * code in `error.data.code`.
 */
export const McpErrorCode = {
  /** Unknown tool, or a bad cursor, version or parameter. */
  InvalidParams: -32602,
  /** The server failed; its log has the details. */
  InternalError: -32603,
  /** No or bad credentials for what was asked (on HTTP, answered as 401 when still possible). */
  Unauthenticated: -32041,
  /** The caller's level or grants are too low for the tool. */
  PermissionDenied: -32043,
  /** A rate or concurrency limit was hit; `data.retryAfterSeconds` says when to retry. */
  RateLimited: -32029,
  /** Any other refusal (shutting down, cancelled, unreachable remote server): see `data.code`. */
  ServerError: -32000,
} as const;

/** What Toolwire puts into `error.data` of its JSON-RPC errors. */
export interface McpErrorData {
  /** The Connect code, snake case ("permission_denied"), as Toolwire's other surfaces answer it. */
  readonly code: string;
  /** Machine-readable reason from the error's ErrorInfo detail, e.g. "RATE_LIMITED". */
  readonly reason?: string;
  /** Seconds to wait before retrying, for rate limits. */
  readonly retryAfterSeconds?: number;
  /** Id of the refused `tools/call` in the server's logs and events (results carry it as `_meta["toolwire/requestId"]`). */
  readonly requestId?: string;
}

/** A JSON-RPC error object: code, message and data. */
export interface JsonRpcErrorObject {
  /** JSON-RPC error code. */
  readonly code: number;
  /** What went wrong, for a person. */
  readonly message: string;
  /** What went wrong, for a program. */
  readonly data?: McpErrorData;
}

/**
 * The JSON-RPC error that answers a refusal. `tool` names the tool of a `tools/call`, so an unknown
 * tool is answered in the words of the MCP specification ("Unknown tool: name").
 */
export function jsonRpcErrorOf(error: ConnectError, tool?: string): JsonRpcErrorObject {
  const data = errorData(error);
  switch (error.code) {
    case Code.NotFound:
      return { code: McpErrorCode.InvalidParams, message: tool === undefined ? error.rawMessage : `Unknown tool: ${tool}`, data };
    case Code.InvalidArgument:
      return { code: McpErrorCode.InvalidParams, message: error.rawMessage, data };
    case Code.Unauthenticated:
      return { code: McpErrorCode.Unauthenticated, message: error.rawMessage, data };
    case Code.PermissionDenied:
      return { code: McpErrorCode.PermissionDenied, message: error.rawMessage, data };
    case Code.ResourceExhausted:
      return { code: McpErrorCode.RateLimited, message: error.rawMessage, data };
    case Code.Internal:
    case Code.Unknown:
      return { code: McpErrorCode.InternalError, message: error.rawMessage, data };
    default:
      return { code: McpErrorCode.ServerError, message: error.rawMessage, data };
  }
}

/**
 * Turns a failed tool call into its MCP answer. What the model can act on comes back as an
 * `isError: true` result it gets to read (the SDK's convention): arguments that break the input
 * schema, a tool that timed out or returned output breaking its own schema. Everything else —
 * unknown tool, refused caller, rate limit, shutdown — is a protocol error, thrown as a
 * ProtocolError for the SDK to answer. Errors that are not ConnectErrors are bugs: `onUnexpected`
 * gets them and the client only learns that the server failed. `requestId`, the call's id, goes
 * where a successful result carries it: `_meta["toolwire/requestId"]`, or `error.data.requestId`.
 */
export function toolCallFailure(
  error: unknown,
  tool: string,
  onUnexpected: (error: unknown) => void,
  requestId?: string,
): CallToolResult {
  if (!(error instanceof ConnectError)) {
    onUnexpected(error);
    throw new ProtocolError(McpErrorCode.InternalError, `tool "${tool}" could not be called: the server failed; its log has the details`);
  }
  const violations = error.code === Code.InvalidArgument && error.findDetails(ArgumentViolationsSchema).length > 0;
  const toolFault =
    violations ||
    error.code === Code.DeadlineExceeded ||
    (error.code === Code.Internal && reasonOf(error) === "INVALID_TOOL_OUTPUT");
  if (toolFault) {
    return {
      content: [{ type: "text", text: error.rawMessage }],
      isError: true,
      ...(requestId === undefined ? {} : { _meta: { [toolwireMetaKeys.requestId]: requestId } }),
    };
  }
  const { code, message, data } = jsonRpcErrorOf(error, tool);
  throw new ProtocolError(code, message, requestId === undefined ? data : { ...data, requestId });
}

function errorData(error: ConnectError): McpErrorData {
  const reason = reasonOf(error);
  const retryAfterSeconds = retryAfterOf(error);
  return {
    code: codeName(error.code),
    ...(reason === undefined ? {} : { reason }),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };
}

function reasonOf(error: ConnectError): string | undefined {
  return error.findDetails(ErrorInfoSchema)[0]?.reason;
}

/** Seconds until a retry may succeed, from the RetryInfo detail (whole seconds, at least 1). */
export function retryAfterOf(error: ConnectError): number | undefined {
  const delay = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
  if (delay === undefined) return undefined;
  const ms = Number(delay.seconds) * 1000 + delay.nanos / 1e6;
  return Math.max(1, Math.ceil(ms / 1000));
}
