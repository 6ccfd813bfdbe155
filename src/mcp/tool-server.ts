import type { JsonObject } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import {
  ProtocolError,
  Server,
  type CallToolResult,
  type ContentBlock,
  type JSONRPCRequest,
  type Result,
  type ServerContext,
  type ServerOptions,
} from "@modelcontextprotocol/server";
import type { Content } from "../registry/content.js";
import { nextRequestId, type CallResult, type CallSink } from "../runtime/call-pipeline.js";
import { version } from "../version.js";
import { McpErrorCode, jsonRpcErrorOf, toolCallFailure } from "./mcp-errors.js";
import { toolwireMetaKeys } from "./mcp-tool.js";
import { paramsProblem, readableFailure } from "./request-check.js";
import type { McpIdentity, McpToolSource } from "./tool-source.js";

/** Options of {@link createToolServerFactory}. */
export interface ToolServerOptions {
  /** Who is calling, read from the request context (HTTP: the endpoint's pass-through auth info). */
  readonly identify: (ctx: ServerContext) => McpIdentity;
  /** Told about errors that are bugs rather than refusals (the client only hears that the server failed). */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** How to use this server, for the client's model; sent on initialize and discovery. */
  readonly instructions?: string | undefined;
}

/** What a server instance is made for. */
export interface ToolServerInstanceOptions {
  /**
   * The instance answers one 2025-era request and is discarded (stateless serving). Nothing a
   * client sets outlives it, so it does not offer the `logging` capability: a `logging/setLevel`
   * would be forgotten before the next request, and without the capability no log notifications
   * are sent. The 2026-07-28 revision names a level on each request instead; sessions and stdio
   * keep one instance per client, which remembers the level.
   */
  readonly statelessLegacy?: boolean | undefined;
}

/** Makes a fresh MCP server instance serving a tool source; one per HTTP request, session or stdio connection. */
export type ToolServerFactory = (options?: ToolServerInstanceOptions) => Server;

/**
 * Creates the factory of MCP servers over `source`: `tools/list` and `tools/call` registered on
 * the SDK's low-level Server with the manifests' JSON Schemas as they are. The handlers are made
 * once; an instance costs a Server and two registrations, since the SDK serves every stateless
 * request with its own instance.
 */
export function createToolServerFactory(source: McpToolSource, options: ToolServerOptions): ToolServerFactory {
  const { identify } = options;
  const onError = options.onError ?? (() => {});
  const info = { name: "toolwire", title: "Toolwire", version };
  const instructions = options.instructions === undefined ? {} : { instructions: options.instructions };
  const tools = { listChanged: source.onToolsChanged !== undefined };
  const serverOptions: ServerOptions = { capabilities: { tools, logging: {} }, ...instructions };
  const statelessLegacyOptions: ServerOptions = { capabilities: { tools }, ...instructions };

  async function listTools(cursor: string | undefined, ctx: ServerContext) {
    try {
      const page = await source.listTools(identify(ctx), cursor);
      return { tools: [...page.tools], ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    } catch (err) {
      if (!(err instanceof ConnectError)) {
        onError(err);
        throw new ProtocolError(McpErrorCode.InternalError, "tools/list failed: the server failed; its log has the details");
      }
      const { code, message, data } = jsonRpcErrorOf(err);
      throw new ProtocolError(code, message, data);
    }
  }

  async function callTool(server: Server, params: CallParams, ctx: ServerContext): Promise<CallToolResult> {
    const { name } = params;
    const meta = params._meta;
    const token = meta?.progressToken;
    // Notifications still on their way out when the tool returns: the result must not overtake
    // them, or the client (which stops listening for a request's progress once it is answered)
    // loses the last ones.
    const inFlight = new Set<Promise<unknown>>();
    const track = (sent: Promise<unknown>) => {
      const settled = sent.catch(ignore);
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
    };
    const sink: CallSink = {
      log: (level, message) => track(ctx.mcpReq.log(level, message, name)),
      ...(token === undefined
        ? {}
        : {
            progress: (done: number, total: number | undefined, message: string) =>
              track(
                ctx.mcpReq.notify({
                  method: "notifications/progress",
                  params: { progressToken: token, progress: done, ...(total === undefined ? {} : { total }), ...(message ? { message } : {}) },
                }),
              ),
          }),
    };
    const identity = identify(ctx);
    const call = {
      name,
      version: metaString(meta, toolwireMetaKeys.version),
      arguments: params.arguments as JsonObject | undefined,
      identity,
      // Chosen here rather than by the source, so failures can name it as successes do.
      requestId: clientRequestId(identity) ?? nextRequestId(),
      signal: ctx.mcpReq.signal,
      clientTimeoutMs: metaTimeout(meta),
      sink,
    };
    let result: CallResult;
    try {
      result = await source.callTool(call);
    } catch (err) {
      await Promise.all(inFlight);
      return toolCallFailure(err, name, onError, call.requestId);
    }
    await Promise.all(inFlight);
    return server.projectCallToolResult(toMcpResult(result), undefined);
  }

  return (instance) => {
    const server = new CheckedServer(info, instance?.statelessLegacy === true ? statelessLegacyOptions : serverOptions);
    server.setRequestHandler("tools/list", (request, ctx) => listTools(request.params?.cursor, ctx));
    server.setRequestHandler("tools/call", (request, ctx) => callTool(server, request.params, ctx));
    return server;
  };
}

type RequestHandler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>;

/**
 * The SDK's Server with every request's params checked first, on every transport: a client's
 * mistake is answered -32602 with what to send, where the SDK would answer its schema library's
 * issue list, for some methods as an internal error (-32603).
 */
class CheckedServer extends Server {
  protected override _wrapHandler(method: string, handler: RequestHandler): RequestHandler {
    const wrapped = super._wrapHandler(method, handler);
    return async (request, ctx) => {
      const problem = paramsProblem(method, request.params);
      if (problem !== undefined) throw new ProtocolError(McpErrorCode.InvalidParams, problem);
      try {
        return await wrapped(request, ctx);
      } catch (err) {
        throw readableFailure(method, err);
      }
    };
  }
}

/** The parts of `tools/call` params the handler reads. */
interface CallParams {
  /** Tool name. */
  readonly name: string;
  /** Arguments object. */
  readonly arguments?: Record<string, unknown> | undefined;
  /** Progress token and Toolwire's keys. */
  readonly _meta?: Record<string, unknown> | undefined;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's x-request-id, when it is a sane token, so ids can be traced end to end. */
function clientRequestId(identity: McpIdentity): string | undefined {
  const id = identity.caller.headers.get("x-request-id");
  return id !== null && requestIdPattern.test(id) ? id : undefined;
}

function ignore(): void {
  // A notification that cannot be sent (client gone, stream closed) is not worth failing the call for.
}

/** The MCP result of a pipeline result, with Toolwire's ids in `_meta`. */
export function toMcpResult(result: CallResult): CallToolResult {
  const meta: Record<string, unknown> = {
    [toolwireMetaKeys.requestId]: result.requestId,
    [toolwireMetaKeys.version]: result.toolVersion,
  };
  if (result.warnings.length > 0) meta[toolwireMetaKeys.warnings] = [...result.warnings];
  return {
    content: result.content.map(toContentBlock),
    ...(result.structuredContent === undefined ? {} : { structuredContent: result.structuredContent }),
    ...(result.isError ? { isError: true } : {}),
    _meta: meta,
  };
}

function toContentBlock(content: Content): ContentBlock {
  if (content.type !== "resource") return content as ContentBlock;
  const { uri, mimeType, text, blob } = content.resource;
  const base = { uri, ...(mimeType === undefined ? {} : { mimeType }) };
  // MCP's resource contents carry either text or a blob, never neither.
  return { type: "resource", resource: blob !== undefined ? { ...base, blob } : { ...base, text: text ?? "" } };
}

function metaString(meta: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = meta?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new ProtocolError(McpErrorCode.InvalidParams, `_meta["${key}"] must be a string (a version or semver range)`);
  return value;
}

function metaTimeout(meta: Record<string, unknown> | undefined): number | undefined {
  const value = meta?.[toolwireMetaKeys.timeoutMs];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ProtocolError(McpErrorCode.InvalidParams, `_meta["${toolwireMetaKeys.timeoutMs}"] must be a positive number of milliseconds`);
  }
  return value;
}
