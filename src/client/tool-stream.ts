import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ContentBlock } from "../../gen/proto/toolwire/v1/content_pb.js";
import { LogLevel, type CallToolResponse, type CallToolStreamResponse } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import type { Content } from "../registry/content.js";
import type { ToolLogLevel } from "../registry/tool-context.js";

/** The tool reported how far it has come. */
export interface ToolProgressEvent {
  /** Says which kind of stream message this is. */
  readonly type: "progress";
  /** Work done so far, in the tool's own unit. */
  readonly done: number;
  /** Total work, when the tool knows it. */
  readonly total: number | undefined;
  /** What the tool is doing now ("" when it said nothing). */
  readonly message: string;
}

/** The tool produced part of its result early. */
export interface ToolPartialEvent {
  /** Says which kind of stream message this is. */
  readonly type: "partial";
  /** The content blocks, shaped like MCP's (binary data base64). */
  readonly content: readonly Content[];
}

/** The tool logged a message. */
export interface ToolLogEvent {
  /** Says which kind of stream message this is. */
  readonly type: "log";
  /** Severity. */
  readonly level: ToolLogLevel;
  /** The message. */
  readonly message: string;
}

/** The final message of a stream: the tool's output and the full result. */
export interface ToolResultEvent<O> {
  /** Says which kind of stream message this is. */
  readonly type: "result";
  /** The structured output, typed by the manifest's output schema. */
  readonly output: O;
  /** The result as the server sent it (content, warnings, request id, execution time). */
  readonly result: CallToolResponse;
}

/** One message of a streaming tool call; the last one is always the result. */
export type ToolStreamEvent<O = JsonObject | undefined> = ToolProgressEvent | ToolPartialEvent | ToolLogEvent | ToolResultEvent<O>;

/** What a streaming tool call returns: progress, partial content and logs, then the result. */
export type ToolStream<O = JsonObject | undefined> = AsyncIterable<ToolStreamEvent<O>>;

/** A call that ran but whose tool reported an error (an is_error result). */
export class ToolCallError extends Error {
  override name = "ToolCallError";
  constructor(
    message: string,
    /** The full result the server sent. */
    readonly result: CallToolResponse,
  ) {
    super(message);
  }
}

/** The error a typed call rejects with for an is_error result, carrying the tool's own message. */
export function toolCallError(name: string, result: CallToolResponse): ToolCallError {
  const text = result.content.flatMap((c) => (c.block.case === "text" ? [c.block.value.text] : [])).join("\n");
  return new ToolCallError(text || `tool "${name}" failed`, result);
}

const logLevels: Readonly<Record<LogLevel, ToolLogLevel>> = {
  [LogLevel.UNSPECIFIED]: "info",
  [LogLevel.DEBUG]: "debug",
  [LogLevel.INFO]: "info",
  [LogLevel.NOTICE]: "notice",
  [LogLevel.WARNING]: "warning",
  [LogLevel.ERROR]: "error",
};

/** The ToolContext log level of a stream's protobuf log level. */
export function toolLogLevel(level: LogLevel): ToolLogLevel {
  return logLevels[level] ?? "info";
}

/**
 * Turns CallToolStream responses into stream events. With `throwOnToolError` an is_error result
 * rejects with {@link ToolCallError} instead of arriving as the result event (the typed client's
 * contract); a stream that ends without a result rejects, since the protocol promises one.
 */
export async function* toToolStream<O>(
  name: string,
  responses: AsyncIterable<CallToolStreamResponse>,
  throwOnToolError: boolean,
): AsyncGenerator<ToolStreamEvent<O>, void, undefined> {
  for await (const res of responses) {
    const event = res.event;
    switch (event.case) {
      case "progress":
        yield { type: "progress", done: event.value.done, total: event.value.total, message: event.value.message };
        break;
      case "partial":
        yield { type: "partial", content: event.value.content.flatMap(contentFromProto) };
        break;
      case "log":
        yield { type: "log", level: toolLogLevel(event.value.level), message: event.value.message };
        break;
      case "result":
        if (throwOnToolError && event.value.isError) throw toolCallError(name, event.value);
        yield { type: "result", output: event.value.structuredContent as O, result: event.value };
        return;
      default:
        // A message kind newer than this client: skip it rather than fail the call.
        break;
    }
  }
  throw new ConnectError(`the stream of tool "${name}" ended without a result`, Code.Internal);
}

/** A protobuf content block as MCP-shaped content; unknown kinds are dropped. */
export function contentFromProto(block: ContentBlock): Content[] {
  const b = block.block;
  switch (b.case) {
    case "text":
      return [{ type: "text", text: b.value.text }];
    case "image":
      return [{ type: "image", data: Buffer.from(b.value.data).toString("base64"), mimeType: b.value.mimeType }];
    case "audio":
      return [{ type: "audio", data: Buffer.from(b.value.data).toString("base64"), mimeType: b.value.mimeType }];
    case "resource": {
      const r = b.value;
      const mimeType = r.mimeType === "" ? {} : { mimeType: r.mimeType };
      const contents =
        r.contents.case === "blob"
          ? { blob: Buffer.from(r.contents.value).toString("base64") }
          : { text: r.contents.value ?? "" };
      return [{ type: "resource", resource: { uri: r.uri, ...mimeType, ...contents } }];
    }
    default:
      return [];
  }
}
