import { ProtocolError } from "@modelcontextprotocol/server";
import { McpErrorCode, type JsonRpcErrorObject } from "./mcp-errors.js";

/** JSON-RPC's code for a message that is no valid request, notification or response. */
const invalidRequestCode = -32600;

/** A refused JSON-RPC message: the error to answer and the id to answer it under. */
export interface MessageRefusal {
  /** The request's id when it had a usable one, else null. */
  readonly id: string | number | null;
  /** -32600 for a message that is not valid JSON-RPC, -32602 for params MCP cannot take. */
  readonly error: JsonRpcErrorObject;
}

/**
 * Checks the JSON-RPC envelope of one incoming message (or each message of a batch), so a
 * malformed one is answered -32600 with what to fix, the same way on every transport (the SDK's
 * own answers differ: -32700 "Parse error" in a session, silence over stdio). Params must be an
 * object: JSON-RPC allows an array, MCP names its parameters, so an array is -32602. Responses
 * (a client answering the server) pass.
 */
export function refuseMessage(message: unknown): MessageRefusal | undefined {
  if (Array.isArray(message)) {
    if (message.length === 0) return invalid(null, "the JSON-RPC batch is empty; send at least one message");
    for (const entry of message) {
      const refusal = refuseMessage(entry);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }
  if (!isObject(message)) return invalid(null, 'a JSON-RPC message must be an object like {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}');
  const id = usableId(message.id);
  if (message.jsonrpc !== "2.0") return invalid(id, `"jsonrpc" must be "2.0"`);
  if ("id" in message && id === null) return invalid(null, `"id" must be a string or a number`);
  if (!("method" in message)) {
    if ("id" in message && ("result" in message || "error" in message)) return undefined;
    return invalid(id, `a JSON-RPC message needs a "method" (a request or notification), or a "result" or "error" (a response)`);
  }
  const method = message.method;
  if (typeof method !== "string") return invalid(id, `"method" must be a string, like "tools/list"`);
  if (!("params" in message)) return undefined;
  const params = message.params;
  if (Array.isArray(params)) return invalidParams(id, `${method}: params must be an object of named parameters, not an array`);
  if (!isObject(params)) return invalid(id, `"params" must be an object when present`);
  // The SDK checks _meta with the envelope and would refuse the whole message for it.
  const meta = metaProblem(method, params._meta);
  return meta === undefined ? undefined : invalidParams(id, meta);
}

/**
 * What is wrong with the params of an MCP request the server serves, in words a person can act
 * on; undefined when nothing is. Checks only what every protocol revision requires, so it never
 * refuses what the SDK would take.
 */
export function paramsProblem(method: string, params: unknown): string | undefined {
  if (params !== undefined && !isObject(params)) return `${method}: params must be an object`;
  const p = params ?? {};
  const meta = metaProblem(method, p._meta);
  if (meta !== undefined) return meta;
  switch (method) {
    case "initialize":
      return isString(p.protocolVersion) && isObject(p.capabilities) && isImplementation(p.clientInfo)
        ? undefined
        : `initialize needs params.protocolVersion (string), params.capabilities (object) and params.clientInfo ({name, version}: strings)${found(p, ["protocolVersion", "capabilities", "clientInfo"])}`;
    case "tools/list":
      return p.cursor === undefined || isString(p.cursor) ? undefined : `tools/list: params.cursor must be a string (the nextCursor of the previous page)${found(p, ["cursor"])}`;
    case "tools/call":
      if (!isString(p.name)) return `tools/call needs params.name (string), the tool to call${found(p, ["name"])}`;
      return p.arguments === undefined || isObject(p.arguments) ? undefined : `tools/call: params.arguments must be an object of the tool's arguments${found(p, ["arguments"])}`;
    case "logging/setLevel":
      return isString(p.level) && logLevels.includes(p.level) ? undefined : `logging/setLevel needs params.level, one of ${logLevels.join(", ")}${found(p, ["level"])}`;
    default:
      return undefined;
  }
}

/**
 * A request handler's failure as the client should hear it. The SDK reports params that break its
 * schemas as a plain Error (answered -32603, internal) or as -32602, with the schema library's
 * issue list as the message; both become -32602 with a short summary. Anything else is unchanged.
 */
export function readableFailure(method: string, err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const isProtocolError = err instanceof ProtocolError;
  if (isProtocolError && err.code !== McpErrorCode.InvalidParams) return err;
  const summary = issueSummary(err.message.slice(err.message.indexOf("[")));
  if (summary === undefined) return err;
  return new ProtocolError(McpErrorCode.InvalidParams, `Invalid params for ${method}: ${summary}`);
}

const logLevels = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

function metaProblem(method: string, meta: unknown): string | undefined {
  if (meta === undefined) return undefined;
  if (!isObject(meta)) return `${method}: params._meta must be an object`;
  const token = meta.progressToken;
  if (token !== undefined && !isString(token) && typeof token !== "number") return `${method}: params._meta.progressToken must be a string or a number`;
  return undefined;
}

/** The schema issues of a serialized issue list ("[{path, message}, …]"), a few of them, one line. */
function issueSummary(text: string): string | undefined {
  let issues: unknown;
  try {
    issues = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(issues) || issues.length === 0 || !issues.every((i) => isObject(i) && Array.isArray(i.path) && isString(i.message))) return undefined;
  const lines = (issues as { path: unknown[]; message: string }[]).slice(0, 3).map((i) => `${i.path.map(String).join(".") || "params"}: ${i.message}`);
  return lines.join("; ") + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : "");
}

/** ", got params.x = …" for the named fields that are present, so the client sees what it sent. */
function found(params: Record<string, unknown>, keys: readonly string[]): string {
  const present = keys.filter((k) => params[k] !== undefined).map((k) => `params.${k} = ${clip(JSON.stringify(params[k]))}`);
  return present.length === 0 ? "" : `; got ${present.join(", ")}`;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function invalidParams(id: string | number | null, message: string): MessageRefusal {
  return { id, error: { code: McpErrorCode.InvalidParams, message } };
}

function invalid(id: string | number | null, message: string): MessageRefusal {
  return { id, error: { code: invalidRequestCode, message: `Invalid Request: ${message}` } };
}

function usableId(id: unknown): string | number | null {
  return isString(id) || (typeof id === "number" && Number.isFinite(id)) ? id : null;
}

function isImplementation(value: unknown): boolean {
  return isObject(value) && isString(value.name) && isString(value.version);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}
