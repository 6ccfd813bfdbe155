import { Code, ConnectError, createClient, type CallOptions, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { ContentBlock } from "../../gen/proto/toolwire/v1/content_pb.js";
import { EventType } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { Tool as ProtoTool } from "../../gen/proto/toolwire/v1/tool_pb.js";
import { ToolService, type CallToolResponse } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { createAuthInterceptor } from "../client/auth-interceptor.js";
import { createEventWatcher } from "../client/event-watcher.js";
import type { ClientLogger } from "../client/logging-interceptor.js";
import { annotationsOf, securityLevelOf } from "../client/tool-metadata.js";
import { toolLogLevel } from "../client/tool-stream.js";
import type { Content } from "../registry/content.js";
import type { CallResult } from "../runtime/call-pipeline.js";
import { mcpToolOf } from "./mcp-tool.js";
import type { McpToolSource } from "./tool-source.js";

/** Options of {@link createRemoteToolSource}. */
export interface RemoteToolSourceOptions {
  /** Base URL of the Toolwire server, e.g. https://tools.example.com. */
  readonly baseUrl: string;
  /** API key, sent as the `x-api-key` header as every Toolwire client does. */
  readonly apiKey?: string | undefined;
  /** Bearer token (a JWT), sent as `Authorization: Bearer <token>`; use it or `apiKey`, not both. */
  readonly token?: string | undefined;
  /** Tools per page asked of ListTools, and so per `tools/list` page (default 100). */
  readonly pageSize?: number | undefined;
  /** Transport to the server (default: Connect over HTTP/1.1, which any proxy passes); it must add the credentials itself. */
  readonly transport?: Transport | undefined;
  /** Where trouble with the server's event stream (which carries tool list changes) is reported. */
  readonly logger?: ClientLogger | undefined;
}

/**
 * The tools of a remote Toolwire server, reached through the generated Connect client: `tools/list`
 * pages map onto ListTools pages, and `tools/call` onto CallToolStream when the MCP client asked
 * for progress (progress and logs are forwarded, partial content joins the result) and onto
 * CallTool otherwise. The remote server authenticates, authorizes and limits every call; its
 * refusals come back as the same ConnectErrors the local pipeline raises. Tool list changes come
 * from the server's WatchEvents stream, when the credentials may read it.
 */
export function createRemoteToolSource(options: RemoteToolSourceOptions): McpToolSource {
  const { baseUrl, apiKey, token } = options;
  const pageSize = Math.min(500, Math.max(1, Math.floor(options.pageSize ?? 100)));
  const credentials = createAuthInterceptor({
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(token === undefined ? {} : { token }),
  });
  const transport = options.transport ?? createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [credentials] });
  const client = createClient(ToolService, transport);

  /** A remote refusal, with what a person at the stdio end can do about it. */
  function explained(err: unknown): unknown {
    if (!(err instanceof ConnectError)) return err;
    let hint: string | undefined;
    if (err.code === Code.Unauthenticated) {
      hint =
        apiKey === undefined && token === undefined
          ? "pass --api-key or set TOOLWIRE_API_KEY"
          : "check the credentials given with --api-key / TOOLWIRE_API_KEY or --token / TOOLWIRE_TOKEN";
    } else if (err.code === Code.Unavailable) {
      hint = `Toolwire server at ${baseUrl}`;
    }
    if (hint === undefined) return err;
    const message = err.code === Code.Unavailable ? `${hint}: ${err.rawMessage}` : `${err.rawMessage} (toolwire mcp --remote: ${hint})`;
    const explainedError = new ConnectError(message, err.code, err.metadata, undefined, err);
    explainedError.details = err.details;
    return explainedError;
  }

  return {
    async listTools(_identity, cursor) {
      try {
        const page = await client.listTools({ pageSize, pageToken: cursor ?? "" });
        return { tools: page.tools.map(toMcpTool), nextCursor: page.nextPageToken || undefined };
      } catch (err) {
        throw explained(err);
      }
    },

    async callTool(call) {
      const request = { name: call.name, version: call.version ?? "", arguments: call.arguments ?? {} };
      const callOptions: CallOptions = {
        signal: call.signal,
        // The remote server takes a sane x-request-id as the call's id, so both ends log the same one.
        headers: { "x-request-id": call.requestId },
        ...(call.clientTimeoutMs === undefined ? {} : { timeoutMs: call.clientTimeoutMs }),
      };
      try {
        const { progress, log } = call.sink;
        if (progress === undefined) return fromProtoResult(await client.callTool(request, callOptions), []);
        const partial: Content[] = [];
        for await (const message of client.callToolStream(request, callOptions)) {
          const event = message.event;
          switch (event.case) {
            case "progress":
              progress(event.value.done, event.value.total, event.value.message);
              break;
            case "partial":
              partial.push(...event.value.content.map(fromProtoContent));
              break;
            case "log":
              log?.(toolLogLevel(event.value.level), event.value.message);
              break;
            case "result":
              return fromProtoResult(event.value, partial);
          }
        }
        throw new ConnectError("the Toolwire server ended the call's stream without a result", Code.DataLoss);
      } catch (err) {
        throw explained(err);
      }
    },

    onToolsChanged(listener) {
      const changed = () => listener();
      const watcher = createEventWatcher(
        transport,
        // A gap may have swallowed a change: re-listing is cheap, missing a tool is not.
        { onToolRegistered: changed, onToolUnregistered: changed, onGap: changed },
        { types: [EventType.TOOL_REGISTERED, EventType.TOOL_UNREGISTERED] },
        options.logger,
      );
      watcher.start();
      return () => void watcher.stop();
    },
  };
}

function toMcpTool(tool: ProtoTool) {
  return mcpToolOf({
    name: tool.name,
    version: tool.version,
    title: tool.title,
    description: tool.description,
    category: tool.category,
    tags: tool.tags,
    securityLevel: securityLevelOf(tool),
    deprecated: tool.deprecated,
    annotations: annotationsOf(tool),
    input: tool.inputSchema ?? { type: "object" },
    output: tool.outputSchema,
  });
}

function fromProtoResult(response: CallToolResponse, partial: readonly Content[]): CallResult {
  const duration = response.executionTime;
  const content = response.content.map(fromProtoContent);
  return {
    content: partial.length > 0 ? [...partial, ...content] : content,
    structuredContent: response.structuredContent,
    isError: response.isError,
    toolName: response.toolName,
    toolVersion: response.toolVersion,
    executionTimeMs: duration === undefined ? 0 : Number(duration.seconds) * 1000 + duration.nanos / 1e6,
    warnings: response.warnings,
    requestId: response.requestId,
  };
}

function fromProtoContent(block: ContentBlock): Content {
  const b = block.block;
  switch (b.case) {
    case "text":
      return { type: "text", text: b.value.text };
    case "image":
      return { type: "image", data: Buffer.from(b.value.data).toString("base64"), mimeType: b.value.mimeType };
    case "audio":
      return { type: "audio", data: Buffer.from(b.value.data).toString("base64"), mimeType: b.value.mimeType };
    case "resource": {
      const r = b.value;
      const mimeType = r.mimeType === "" ? {} : { mimeType: r.mimeType };
      return r.contents.case === "blob"
        ? { type: "resource", resource: { uri: r.uri, ...mimeType, blob: Buffer.from(r.contents.value).toString("base64") } }
        : { type: "resource", resource: { uri: r.uri, ...mimeType, text: r.contents.value ?? "" } };
    }
    default:
      // A block kind newer than this client: say so rather than drop it silently.
      return { type: "text", text: "[content of a kind this client does not know]" };
  }
}
