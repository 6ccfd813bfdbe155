import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { ToolService, type CallToolStreamResponseSchema } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import type { ToolRegistry } from "../registry/tool-registry.js";
import type { CallPipeline, CallRequest } from "../runtime/call-pipeline.js";
import { listTools, visibleTools } from "../runtime/tool-listing.js";
import { callerFromContext, requestIdFromContext } from "./caller-info.js";
import { contentToProto, logLevelToProtoLevel, resultToProto, toolToProto } from "./proto-convert.js";
import { createStreamQueue } from "./stream-queue.js";

type StreamMessage = MessageInitShape<typeof CallToolStreamResponseSchema>;

/** Most stream messages waiting for a slow client before partial content ends the call. */
const streamQueueCapacity = 1024;

/** Counts CallToolStream responses still being sent, so shutdown can let them finish. */
export interface StreamTracker {
  /** Streams open now. */
  open: number;
}

/** Implements toolwire.v1.ToolService by translating to and from the call pipeline. */
export function createToolService(
  registry: ToolRegistry,
  pipeline: CallPipeline,
  streams: StreamTracker = { open: 0 },
): ServiceImpl<typeof ToolService> {
  function callRequest(req: { name: string; version: string; arguments?: CallRequest["arguments"] }, ctx: HandlerContext) {
    const requestId = requestIdFromContext(ctx);
    return {
      name: req.name,
      version: req.version,
      arguments: req.arguments,
      caller: callerFromContext(ctx),
      signal: ctx.signal,
      clientTimeoutMs: ctx.timeoutMs(),
      requestId,
    } satisfies CallRequest;
  }

  return {
    async listTools(req, ctx) {
      const principal = await pipeline.authenticate(callerFromContext(ctx));
      const visible = visibleTools(registry.list(), principal);
      const page = listTools(visible, req);
      return {
        tools: page.tools.map((t) => toolToProto(t, registry.versions(t.name))),
        nextPageToken: page.nextPageToken,
        totalSize: page.totalSize,
        categories: [...page.categories],
        tags: [...page.tags],
      };
    },

    async getTool(req, ctx) {
      const principal = await pipeline.authenticate(callerFromContext(ctx));
      const tool = pipeline.resolveFor(principal, req.name, req.version);
      return { tool: toolToProto(tool, registry.versions(tool.name)) };
    },

    async callTool(req, ctx) {
      const result = await pipeline.call(callRequest(req, ctx));
      return resultToProto(result);
    },

    async *callToolStream(req, ctx) {
      streams.open++;
      const queue = createStreamQueue<StreamMessage>(streamQueueCapacity);
      // Our own controller, so the call also stops when the client stops reading the stream.
      const controller = new AbortController();
      const onAbort = () => controller.abort(ctx.signal.reason);
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      const tooSlow = () =>
        controller.abort(new ConnectError("client is reading the stream too slowly; call ended", Code.ResourceExhausted));
      const call = pipeline.call({
        ...callRequest(req, ctx),
        signal: controller.signal,
        sink: {
          progress: (done, total, message) =>
            queue.push({ event: { case: "progress", value: { done, total, message } } }, true),
          partial: (content) => {
            if (!queue.push({ event: { case: "partial", value: { content: content.map(contentToProto) } } })) tooSlow();
          },
          log: (level, message) =>
            queue.push({ event: { case: "log", value: { level: logLevelToProtoLevel(level), message } } }, true),
        },
      });
      call.then(
        (result) => {
          queue.close({ event: { case: "result", value: resultToProto(result) } });
        },
        (err: unknown) => queue.fail(err),
      );
      try {
        yield* queue;
      } finally {
        streams.open--;
        ctx.signal.removeEventListener("abort", onAbort);
        controller.abort(new ConnectError("stream closed", Code.Canceled));
      }
    },
  };
}
