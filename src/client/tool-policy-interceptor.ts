import { abortable } from "../registry/abortable.js";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { ErrorInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import type { SecurityLevelName } from "../security/security-level.js";
import { idempotencyKeyHeader, idempotentCall } from "./retry-interceptor.js";
import { securityLevelOf, type ToolMetadataCache } from "./tool-metadata.js";

/** What the client checks about a tool before calling it. */
export interface ToolPolicyOptions {
  /** Where tool descriptions come from. */
  readonly metadata: ToolMetadataCache;
  /** Levels the client may call; a tool at any other level is refused before the call is sent. */
  readonly allowedSecurityLevels?: readonly SecurityLevelName[] | undefined;
  /** Whether calls are retried at all; if not, idempotency need not be looked up. */
  readonly retries: boolean;
}

/** Whether a request is a tool call (CallTool or CallToolStream) of Toolwire's ToolService. */
export function isToolCall(req: UnaryRequest | StreamRequest): boolean {
  return req.service.typeName === ToolService.typeName && (req.method.name === "CallTool" || req.method.name === "CallToolStream");
}

/**
 * Checks tool calls against what the server says about the tool (GetTool, cached): refuses a tool
 * whose security level is outside `allowedSecurityLevels` with permission_denied before the call
 * leaves the client, and marks calls to tools whose manifest says `idempotentHint` as safe to
 * retry. A tool the server does not describe to this caller fails with the server's own error
 * (not_found, unauthenticated, permission_denied), again without the call being sent.
 */
export function createToolPolicyInterceptor(options: ToolPolicyOptions): Interceptor {
  const allowed = options.allowedSecurityLevels;
  return (next) => async (req) => {
    if (!isToolCall(req)) return next(req);
    const needsLevel = allowed !== undefined;
    const needsIdempotency = options.retries && !req.header.has(idempotencyKeyHeader);
    if (!needsLevel && !needsIdempotency) return next(req);

    let target: { name: string; version: string } | undefined;
    let forward: UnaryRequest | StreamRequest = req;
    if (req.stream) {
      const messages: { name: string; version: string }[] = [];
      for await (const m of req.message as AsyncIterable<{ name: string; version: string }>) messages.push(m);
      target = messages[0];
      forward = { ...req, message: createAsyncIterable(messages) } as StreamRequest;
    } else {
      target = req.message as unknown as { name: string; version: string };
    }
    if (target === undefined) return next(forward);

    // The lookup may be shared with other calls: this call stops waiting when it is cancelled or
    // its deadline passes, without cancelling the lookup for the others.
    const tool = await untilAborted(options.metadata.get(target.name, target.version), req.signal);
    if (allowed !== undefined) {
      const level = securityLevelOf(tool);
      if (!allowed.includes(level)) {
        throw new ConnectError(
          `tool "${tool.name}" is ${level}; this client may only call ${allowed.join(", ") || "no"} tools ` +
            "(allowedSecurityLevels), so the call was not sent",
          Code.PermissionDenied,
          undefined,
          [
            {
              desc: ErrorInfoSchema,
              value: create(ErrorInfoSchema, {
                reason: "SECURITY_LEVEL_NOT_ALLOWED",
                metadata: { tool: tool.name, securityLevel: level, allowedSecurityLevels: allowed.join(",") },
              }),
            },
          ],
        );
      }
    }
    if (tool.annotations?.idempotentHint === true) req.contextValues.set(idempotentCall, true);
    return next(forward);
  };
}

/** Waits for `promise` unless `signal` aborts first, which answers canceled. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return abortable(promise, signal).catch((err: unknown) => {
    throw signal.aborted && err === signal.reason ? ConnectError.from(err, Code.Canceled) : err;
  });
}
