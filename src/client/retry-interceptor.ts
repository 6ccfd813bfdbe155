import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import {
  ConnectError,
  createContextKey,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { backoffDelay, sleep, type BackoffOptions } from "./backoff.js";
import { codeName } from "../runtime/code-name.js";
import type { ClientLogger } from "./logging-interceptor.js";
import { isTransientFailure, wasNeverSent } from "./transient-error.js";

/** How failed calls are retried. */
export interface RetryOptions extends BackoffOptions {
  /** Most attempts per call, the first included (default 4; 1 turns retries off). */
  readonly maxAttempts?: number;
}

/**
 * Marks one call as safe to send twice. The tool policy sets it for calls to tools whose
 * manifest says `idempotentHint`; the retry interceptor reads it.
 */
export const idempotentCall = createContextKey<boolean>(false, { description: "toolwire: call is idempotent" });

/** Turns retries off for one call, e.g. a health check that must report the state now. */
export const noRetry = createContextKey<boolean>(false, { description: "toolwire: do not retry" });

/** The header carrying a caller's idempotency key (the server may use it to drop duplicates). */
export const idempotencyKeyHeader = "idempotency-key";

/**
 * Whether a request may be sent again after a failure that may have reached the server: methods
 * declared free of side effects or idempotent (ListTools, GetTool, health, stats), calls marked
 * {@link idempotentCall}, and calls carrying an idempotency key. Nothing else, ever.
 */
export function isRetrySafe(req: UnaryRequest | StreamRequest): boolean {
  const level = req.method.idempotency;
  if (level === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS || level === MethodOptions_IdempotencyLevel.IDEMPOTENT) {
    return true;
  }
  return req.contextValues.get(idempotentCall) || req.header.has(idempotencyKeyHeader);
}

/**
 * Retries calls that failed with unavailable or a connection failure, with exponential backoff
 * and jitter, when {@link isRetrySafe} says they may be sent again, or whatever the call, when the
 * failure proves it never reached a server (a refused connection or stream). Every attempt carries the
 * time left of the caller's deadline in its timeout header, so the server never works past it;
 * the waits end as soon as the call is cancelled or its deadline passes. A stream is retried only
 * when it fails before its first message.
 */
export function createRetryInterceptor(options: RetryOptions = {}, logger?: ClientLogger): Interceptor {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 4));
  return (next) => async (req) => {
    if (maxAttempts === 1 || req.contextValues.get(noRetry)) return next(req);
    const safe = isRetrySafe(req);
    const deadline = deadlineOf(req.header);
    // A server-streaming request's message is a one-shot iterable: keep it to send again.
    const messages = req.stream ? await collect(req.message) : undefined;
    for (let attempt = 1; ; attempt++) {
      const header = new Headers(req.header);
      if (deadline !== undefined && attempt > 1) setTimeoutHeader(header, deadline - Date.now());
      try {
        if (req.stream) {
          const attemptReq: StreamRequest = { ...req, header, message: createAsyncIterable(messages ?? []) };
          return await firstMessageOrFailure((await next(attemptReq)) as StreamResponse);
        }
        return (await next({ ...req, header } as UnaryRequest)) as UnaryResponse;
      } catch (err) {
        if (attempt >= maxAttempts || req.signal.aborted || !isTransientFailure(err) || !(safe || wasNeverSent(err))) throw err;
        const delayMs = backoffDelay(attempt - 1, options);
        if (deadline !== undefined && Date.now() + delayMs >= deadline) throw err;
        const ce = ConnectError.from(err);
        logger?.warn(
          { method: `${req.service.typeName}/${req.method.name}`, attempt, delayMs, code: codeName(ce.code), error: ce.rawMessage },
          "retrying call",
        );
        await sleep(delayMs, req.signal);
      }
    }
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/**
 * Waits for a stream's first message so that a failure before it (an unavailable answer travels
 * in the stream body) can still be retried; the response replays that message first.
 */
async function firstMessageOrFailure(res: StreamResponse): Promise<StreamResponse> {
  const it = res.message[Symbol.asyncIterator]();
  const first = await it.next();
  return {
    ...res,
    message: (async function* () {
      if (first.done === true) return;
      yield first.value;
      // yield* hands a reader's early return on to the stream.
      yield* { [Symbol.asyncIterator]: () => it };
    })(),
  };
}

/** The absolute deadline (epoch ms) the transport wrote into the request's timeout header. */
function deadlineOf(header: Headers): number | undefined {
  const connect = header.get("connect-timeout-ms");
  if (connect !== null) {
    const ms = Number(connect);
    return Number.isFinite(ms) ? Date.now() + ms : undefined;
  }
  const grpc = /^(\d{1,8})([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  if (grpc === null) return undefined;
  const unitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };
  return Date.now() + Number(grpc[1]) * (unitMs[grpc[2] ?? "m"] ?? 1);
}

/** Rewrites the timeout header of a retry to the time left. */
function setTimeoutHeader(header: Headers, leftMs: number): void {
  const ms = Math.max(1, Math.floor(leftMs));
  if (header.has("connect-timeout-ms")) header.set("connect-timeout-ms", String(ms));
  if (header.has("grpc-timeout")) header.set("grpc-timeout", `${ms}m`);
}

