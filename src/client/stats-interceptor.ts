import { ConnectError, type Interceptor, type StreamRequest } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import type { CallToolResponse, CallToolStreamResponse } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { codeName } from "../runtime/code-name.js";
import { isToolCall } from "./tool-policy-interceptor.js";
import type { UsageStats } from "./usage-stats.js";

/**
 * Records every tool call (CallTool and CallToolStream) in `stats` once, however many attempts it
 * took: its outcome ("ok", "tool_error" for is_error results, or the error code) and its duration,
 * streams when they end. A stream the caller stops reading early counts as "canceled".
 */
export function createStatsInterceptor(stats: UsageStats): Interceptor {
  return (next) => async (req) => {
    if (!isToolCall(req)) return next(req);
    const started = performance.now();
    let name: string;
    let forward = req;
    if (req.stream) {
      const messages: { name: string }[] = [];
      for await (const m of req.message as AsyncIterable<{ name: string }>) messages.push(m);
      name = messages[0]?.name ?? "";
      forward = { ...req, message: createAsyncIterable(messages) } as StreamRequest;
    } else {
      name = (req.message as unknown as { name: string }).name;
    }
    const record = (code: string) => stats.record(name, code, performance.now() - started);
    const failed = (err: unknown) => record(codeName(ConnectError.from(err).code));

    let res;
    try {
      res = await next(forward);
    } catch (err) {
      failed(err);
      throw err;
    }
    if (!res.stream) {
      record((res.message as CallToolResponse).isError ? "tool_error" : "ok");
      return res;
    }
    const messages = res.message as AsyncIterable<CallToolStreamResponse>;
    return {
      ...res,
      message: (async function* () {
        let recorded = false;
        try {
          for await (const m of messages) {
            // Recorded with the result, not at the end: a reader may stop once it has the result.
            if (m.event.case === "result" && !recorded) {
              recorded = true;
              record(m.event.value.isError ? "tool_error" : "ok");
            }
            yield m;
          }
        } catch (err) {
          if (!recorded) {
            recorded = true;
            failed(err);
          }
          throw err;
        } finally {
          if (!recorded) record("canceled");
        }
      })(),
    } as typeof res;
  };
}
