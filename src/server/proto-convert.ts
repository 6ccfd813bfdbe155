import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DurationSchema } from "@bufbuild/protobuf/wkt";
import type { ContentBlockSchema } from "../../gen/proto/toolwire/v1/content_pb.js";
import { SecurityLevel, type ToolSchema } from "../../gen/proto/toolwire/v1/tool_pb.js";
import { LogLevel, type CallToolResponseSchema } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import type { Content } from "../registry/content.js";
import type { ToolLogLevel } from "../registry/tool-context.js";
import type { RegisteredTool } from "../registry/tool-registry.js";
import type { CallResult } from "../runtime/call-pipeline.js";
import type { SecurityLevelName } from "../security/security-level.js";

const levelToProto: Record<SecurityLevelName, SecurityLevel> = {
  public: SecurityLevel.PUBLIC,
  authenticated: SecurityLevel.AUTHENTICATED,
  restricted: SecurityLevel.RESTRICTED,
  admin: SecurityLevel.ADMIN,
};

const logLevelToProto: Record<ToolLogLevel, LogLevel> = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  notice: LogLevel.NOTICE,
  warning: LogLevel.WARNING,
  error: LogLevel.ERROR,
};

/** The protobuf description of a registered tool version. */
export function toolToProto(tool: RegisteredTool, versions: readonly RegisteredTool[]): MessageInitShape<typeof ToolSchema> {
  const m = tool.manifest;
  return {
    name: m.name,
    version: m.version,
    title: m.title ?? "",
    description: m.description,
    category: m.category ?? "",
    tags: m.tags ?? [],
    securityLevel: levelToProto[tool.securityLevel],
    timeoutMs: m.timeoutMs ?? 0,
    rateLimit: m.rateLimit,
    deprecated: m.deprecated === true,
    experimental: m.experimental === true,
    streaming: m.streaming === true,
    annotations: m.annotations,
    inputSchema: m.input as MessageInitShape<typeof ToolSchema>["inputSchema"],
    outputSchema: m.output as MessageInitShape<typeof ToolSchema>["outputSchema"],
    versions: versions.map((v) => v.version),
    maxConcurrency: m.maxConcurrency ?? 0,
  };
}

/** A content block as a protobuf ContentBlock. */
export function contentToProto(content: Content): MessageInitShape<typeof ContentBlockSchema> {
  switch (content.type) {
    case "text":
      return { block: { case: "text", value: { text: content.text } } };
    case "image":
      return { block: { case: "image", value: { data: Buffer.from(content.data, "base64"), mimeType: content.mimeType } } };
    case "audio":
      return { block: { case: "audio", value: { data: Buffer.from(content.data, "base64"), mimeType: content.mimeType } } };
    case "resource": {
      const r = content.resource;
      return {
        block: {
          case: "resource",
          value: {
            uri: r.uri,
            mimeType: r.mimeType ?? "",
            contents:
              r.blob !== undefined
                ? { case: "blob", value: Buffer.from(r.blob, "base64") }
                : { case: "text", value: r.text ?? "" },
          },
        },
      };
    }
  }
}

/** A pipeline result as a CallToolResponse. */
export function resultToProto(result: CallResult): MessageInitShape<typeof CallToolResponseSchema> {
  return {
    content: result.content.map(contentToProto),
    structuredContent: result.structuredContent,
    isError: result.isError,
    toolName: result.toolName,
    toolVersion: result.toolVersion,
    executionTime: durationFromMillis(result.executionTimeMs),
    warnings: [...result.warnings],
    requestId: result.requestId,
  };
}

/** The protobuf log level of a tool log level. */
export function logLevelToProtoLevel(level: ToolLogLevel): LogLevel {
  return logLevelToProto[level];
}

function durationFromMillis(ms: number): MessageInitShape<typeof DurationSchema> {
  const whole = Math.floor(ms / 1000);
  return { seconds: BigInt(whole), nanos: Math.min(999_999_999, Math.round((ms - whole * 1000) * 1e6)) };
}
