import { randomBytes } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { abortable } from "../registry/abortable.js";
import type { Content } from "../registry/content.js";
import type { ToolLogLevel, ToolContext } from "../registry/tool-context.js";
import type { RegisteredTool, ToolRegistry } from "../registry/tool-registry.js";
import { isToolResult, ToolError } from "../registry/tool-result.js";
import { toViolations } from "../registry/json-schema.js";
import { checkAccess } from "../security/authorize.js";
import { anonymousPrincipal, type Principal } from "../security/principal.js";
import { clientAddressKey } from "../security/client-address.js";
import { createToolRateLimiter, type RateLimitRule, type ToolRateLimiter } from "../security/rate-limit.js";
import type { Authenticator, CallerInfo } from "./caller.js";
import { codeName } from "./code-name.js";
import { didYouMean } from "./did-you-mean.js";
import {
  canceled,
  deadlineExceeded,
  type DeadlineSource,
  invalidArguments,
  invalidOutput,
  limitExceeded,
  shuttingDown,
  toolNotFound,
} from "./errors.js";
import { visibleTools } from "./tool-listing.js";

/** Receives what a handler emits while it runs; streaming transports forward it. */
export interface CallSink {
  /** Progress from ctx.progress. */
  progress?(done: number, total: number | undefined, message: string): void;
  /** Content from ctx.partial. */
  partial?(content: readonly Content[]): void;
  /** Messages from ctx.log. */
  log?(level: ToolLogLevel, message: string): void;
}

/** One tool call as a transport hands it to the pipeline. */
export interface CallRequest {
  /** Tool name. */
  readonly name: string;
  /** Exact version or semver range; empty or absent for the default version. */
  readonly version?: string | undefined;
  /** Arguments object; absent means {}. Defaults are filled into it. */
  readonly arguments?: JsonObject | undefined;
  /** Who is calling and how. */
  readonly caller: CallerInfo;
  /** Aborted by the transport when the client cancels, disconnects or its deadline passes. */
  readonly signal: AbortSignal;
  /** Milliseconds left before the client's own deadline, when it sent one. */
  readonly clientTimeoutMs?: number | undefined;
  /** Id for logs and events; the pipeline makes one when absent. */
  readonly requestId?: string | undefined;
  /**
   * Where progress, partial content and logs go. Without a sink (unary calls) progress and logs
   * are dropped and partial content is collected into the result.
   */
  readonly sink?: CallSink | undefined;
}

/** The final result of a call, shaped like MCP's CallToolResult. */
export interface CallResult {
  /** Unstructured content. */
  readonly content: readonly Content[];
  /** Structured output, when the tool returned an object. */
  readonly structuredContent: JsonObject | undefined;
  /** The tool failed; content says why. */
  readonly isError: boolean;
  /** Tool that ran. */
  readonly toolName: string;
  /** Version that ran. */
  readonly toolVersion: string;
  /** Milliseconds spent in the handler. */
  readonly executionTimeMs: number;
  /** Warnings for the caller (deprecated version). */
  readonly warnings: readonly string[];
  /** Id of this call. */
  readonly requestId: string;
}

/** What observers (metrics, events, audit logs) learn about one call. */
export interface ObservedCall {
  /** Id of the call. */
  readonly requestId: string;
  /** Tool name as requested. */
  readonly toolName: string;
  /** Version that was resolved; undefined when resolution failed or had not happened. */
  readonly toolVersion: string | undefined;
  /** The resolved tool, once resolution succeeded. */
  readonly tool: RegisteredTool | undefined;
  /** Who called, once authentication succeeded. */
  readonly principal: Principal | undefined;
  /** What the transport knew about the caller. */
  readonly caller: CallerInfo;
  /** The call's arguments (defaults filled in once validated); may hold secrets, so observers must opt in to use them. */
  readonly arguments: JsonObject | undefined;
}

/** How an observed call ended. */
export interface CallOutcome {
  /** "ok", "tool_error" (an is_error result), or the Connect code of the error, in snake case. */
  readonly code: string;
  /**
   * The error the caller got, when it got one; for a tool hidden from the caller, the refusal
   * (unauthenticated, permission_denied) its not_found answer stands for, so audits see it.
   */
  readonly error: ConnectError | undefined;
  /** The result, when there was one (is_error results included). */
  readonly result: CallResult | undefined;
  /** Whether the handler ran (false for calls refused before it). */
  readonly executed: boolean;
  /** Milliseconds from entering the pipeline to the answer. */
  readonly durationMs: number;
}

/**
 * Watches calls go through the pipeline. Observers run synchronously on the call path, so they
 * must be cheap and must not throw (what they throw is logged and swallowed).
 */
export interface CallObserver {
  /** A call passed every check and its handler is about to run. */
  callStarted?(call: ObservedCall): void;
  /** A call answered: with a result, an is_error result, or an error (refused ones included). */
  callEnded?(call: ObservedCall, outcome: CallOutcome): void;
}

/** Server-wide request budgets besides the manifests' per-tool ones. */
export interface RequestLimits {
  /** Requests per identified caller. */
  readonly perCaller?: RateLimitRule | undefined;
  /**
   * Requests per client address (IPv6 per /64) for anonymous callers; requests with bad
   * credentials spend from it too, so guessing keys or tokens is limited as well.
   */
  readonly anonymousPerIp?: RateLimitRule | undefined;
}

/** Options of {@link createCallPipeline}. */
export interface CallPipelineOptions {
  /** Where tools are resolved. */
  readonly registry: ToolRegistry;
  /** Identifies callers; default: everyone is the anonymous public caller. */
  readonly authenticate?: Authenticator | undefined;
  /** Time limit for tools whose manifest sets none, in milliseconds (default 30 000). */
  readonly defaultTimeoutMs?: number | undefined;
  /** Deepest nesting of arguments accepted (default 32). */
  readonly maxArgumentDepth?: number | undefined;
  /** Rate limiter for manifests' `rateLimit` and the request limits (default: in memory). */
  readonly rateLimiter?: ToolRateLimiter | undefined;
  /** Server-wide request budgets, across every tool and listing. */
  readonly requestLimits?: RequestLimits | undefined;
  /** Concurrent calls per tool when its manifest sets no maxConcurrency (default: unlimited). */
  readonly defaultMaxConcurrency?: number | undefined;
  /** Longest a streaming call may run, whatever its tool timeout (default 1 hour). */
  readonly maxStreamDurationMs?: number | undefined;
  /**
   * Answer a call of a tool the caller may not see (one ListTools leaves out for it) with
   * unauthenticated or permission_denied, naming the level needed. Default false: not_found,
   * word for word as for a tool that does not exist, so that callers cannot probe for tools.
   */
  readonly revealHiddenTools?: boolean | undefined;
  /** Told about every call's start and end (metrics, events, audit). */
  readonly observers?: readonly CallObserver[] | undefined;
  /** Told when `authenticate` (listings, monitoring, admin, MCP) refuses a caller: bad credentials or a spent budget. */
  readonly onRefused?: ((caller: CallerInfo, error: ConnectError) => void) | undefined;
  /** Told when an observer throws (the call goes on regardless). */
  readonly onObserverError?: ((error: unknown) => void) | undefined;
  /** Told about handler failures (the stack stays on the server). */
  readonly onHandlerError?: ((tool: RegisteredTool, requestId: string, error: unknown) => void) | undefined;
}

/**
 * The one call pipeline behind every transport: authenticate → resolve → authorize →
 * rate limit → validate input → execute → validate output. Transports only translate.
 */
export interface CallPipeline {
  /** Runs one call to its final result; rejects with a ConnectError for protocol-level failures. */
  call(request: CallRequest): Promise<CallResult>;
  /** Identifies a caller (for listings, which filter by what the caller may call); unavailable while draining. */
  authenticate(caller: CallerInfo): Promise<Principal>;
  /** Whether `principal` may call `tool`. */
  canCall(principal: Principal, tool: RegisteredTool): boolean;
  /**
   * Resolves a tool the principal may see; throws not_found (also for a tool hidden from it,
   * unless `revealHiddenTools`) / unauthenticated / permission_denied.
   */
  resolveFor(principal: Principal, name: string, version?: string): RegisteredTool;
  /** Adds an observer of every call from now on; returns a function that removes it. */
  observe(observer: CallObserver): () => void;
  /** Calls currently running. */
  readonly inFlight: number;
  /** Whether the pipeline refuses new calls because the server is shutting down. */
  readonly draining: boolean;
  /**
   * Refuses new calls with unavailable, waits up to `graceMs` for running ones, then aborts what
   * is left (their handlers see the signal) and resolves once all have answered.
   */
  drain(graceMs: number): Promise<void>;
}

const defaultAuthenticator: Authenticator = () => anonymousPrincipal;

/** Creates the call pipeline over a registry. */
export function createCallPipeline(options: CallPipelineOptions): CallPipeline {
  const { registry } = options;
  const authenticateCaller = options.authenticate ?? defaultAuthenticator;
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
  const maxDepth = options.maxArgumentDepth ?? 32;
  const rateLimiter = options.rateLimiter ?? createToolRateLimiter();
  // Calls that have not answered yet; drain() waits for these.
  const running = new Set<CallContext>();
  // Keyed by name and version, not by the registered object: a replaced or re-deprecated tool is
  // a new object, and its running calls must still count.
  const concurrency = new Map<string, number>();
  let draining = false;
  const idleWaiters: (() => void)[] = [];

  const { perCaller, anonymousPerIp } = options.requestLimits ?? {};
  const defaultMaxConcurrency = options.defaultMaxConcurrency;
  const maxStreamDurationMs = options.maxStreamDurationMs ?? 3_600_000;
  const revealHiddenTools = options.revealHiddenTools ?? false;
  // not_found answers that stand for a refusal: observers record the refusal.
  const concealedDenials = new WeakMap<ConnectError, ConnectError>();

  /** Authenticates, spending the client address's budget on bad credentials. */
  async function identify(caller: CallerInfo): Promise<Principal> {
    try {
      return await authenticateCaller(caller);
    } catch (err) {
      if (anonymousPerIp !== undefined && caller.peer !== undefined) {
        await rateLimiter.consumeRequest("address", anonymousPerIp, clientAddressKey(caller.peer));
      }
      throw err;
    }
  }

  /** Spends one request from the caller's server-wide budget, when one is configured. */
  function spendRequest(principal: Principal, caller: CallerInfo): Promise<void> | undefined {
    if (principal.anonymous) {
      if (anonymousPerIp === undefined || caller.peer === undefined) return undefined;
      return rateLimiter.consumeRequest("address", anonymousPerIp, clientAddressKey(caller.peer));
    }
    return perCaller === undefined ? undefined : rateLimiter.consumeRequest("caller", perCaller, principal.id);
  }

  async function authenticate(caller: CallerInfo): Promise<Principal> {
    if (draining) throw shuttingDown();
    try {
      const principal = await identify(caller);
      await spendRequest(principal, caller);
      return principal;
    } catch (err) {
      // Calls are audited by their observers; refusals of everything else (listings, monitoring,
      // admin RPCs, MCP) are told here, so no guessed credential goes unrecorded.
      options.onRefused?.(caller, ConnectError.from(err));
      throw err;
    }
  }

  /**
   * not_found for a name with no tool the principal may call, the same whether a hidden tool has
   * it or none: the guess is drawn from the tools the principal may list, never from hidden ones.
   */
  function unknownTool(principal: Principal, name: string): ConnectError {
    return toolNotFound(name, undefined, [], didYouMean(name, visibleTools(registry.list(), principal).map((t) => t.name)));
  }

  function resolveFor(principal: Principal, name: string, version?: string): RegisteredTool {
    if (revealHiddenTools) {
      if (registry.versions(name).length === 0) throw unknownTool(principal, name);
      const tool = registry.resolve(name, version);
      const denied = accessOf(principal, tool);
      if (denied !== undefined) throw denied;
      return tool;
    }
    // By the listing's rule, a version the caller may not call does not exist for it, and no
    // answer (not even to a malformed version range) may tell a hidden tool from a missing one.
    const versions = registry.versions(name);
    const visible = versions.filter((t) => accessOf(principal, t) === undefined);
    if (versions[0] === undefined) throw unknownTool(principal, name);
    if (visible.length === 0) throw concealed(unknownTool(principal, name), accessOf(principal, versions[0]));
    const missing = () => toolNotFound(name, version, visible.map((t) => t.version));
    let tool: RegisteredTool;
    try {
      tool = registry.resolve(name, version);
    } catch (err) {
      // The registry's own answer would list the hidden versions too.
      throw err instanceof ConnectError && err.code === Code.NotFound ? missing() : err;
    }
    const denied = accessOf(principal, tool);
    if (denied === undefined) return tool;
    throw concealed(missing(), denied);
  }

  /** Remembers the refusal behind a not_found answer, for observers (the audit log) only. */
  function concealed(answer: ConnectError, denial: ConnectError | undefined): ConnectError {
    if (denial !== undefined) concealedDenials.set(answer, denial);
    return answer;
  }

  let observers: readonly CallObserver[] = options.observers ?? [];

  function call(request: CallRequest): Promise<CallResult> {
    // Without observers a call costs no bookkeeping at all.
    if (observers.length === 0) return run(request, undefined);
    return observedCall(request);
  }

  async function observedCall(request: CallRequest): Promise<CallResult> {
    const observed: MutableObservedCall = {
      requestId: request.requestId ?? nextRequestId(),
      toolName: request.name,
      toolVersion: undefined,
      tool: undefined,
      principal: undefined,
      caller: request.caller,
      arguments: request.arguments,
    };
    const started = performance.now();
    const seen = observers;
    try {
      const result = await run({ ...request, requestId: observed.requestId }, observed);
      const outcome: CallOutcome = {
        code: result.isError ? "tool_error" : "ok",
        error: undefined,
        result,
        executed: true,
        durationMs: performance.now() - started,
      };
      notify(seen, (o) => o.callEnded?.(observed, outcome));
      return result;
    } catch (err) {
      const answered = ConnectError.from(err);
      const error = concealedDenials.get(answered) ?? answered;
      const outcome: CallOutcome = {
        code: codeName(error.code),
        error,
        result: undefined,
        executed: observed.executed === true,
        durationMs: performance.now() - started,
      };
      notify(seen, (o) => o.callEnded?.(observed, outcome));
      throw err;
    }
  }

  function notify(list: readonly CallObserver[], fn: (observer: CallObserver) => void): void {
    for (const observer of list) {
      try {
        fn(observer);
      } catch (err) {
        options.onObserverError?.(err);
      }
    }
  }

  async function run(request: CallRequest, observed: MutableObservedCall | undefined): Promise<CallResult> {
    if (draining) throw shuttingDown();
    const requestId = request.requestId ?? nextRequestId();
    const principal = await identify(request.caller);
    if (observed !== undefined) observed.principal = principal;
    const spent = spendRequest(principal, request.caller);
    if (spent !== undefined) await spent;
    const tool = resolveFor(principal, request.name, request.version);
    if (observed !== undefined) {
      observed.tool = tool;
      observed.toolVersion = tool.version;
    }
    const { manifest } = tool;

    if (manifest.rateLimit !== undefined) {
      const rateKey = principal.anonymous && request.caller.peer ? clientAddressKey(request.caller.peer) : principal.id;
      await rateLimiter.consume(tool.name, manifest.rateLimit, rateKey);
    }

    const args: JsonObject = request.arguments ?? {};
    const depth = nestingDepth(args, maxDepth);
    if (depth > maxDepth) {
      throw invalidArguments(tool.name, [
        { pointer: "", keyword: "maxDepth", message: `is nested deeper than ${maxDepth} levels` },
      ]);
    }
    if (!tool.validateInput(args)) {
      throw invalidArguments(tool.name, toViolations(tool.validateInput.errors));
    }

    const limit = manifest.maxConcurrency ?? defaultMaxConcurrency;
    const slotKey = limit === undefined ? "" : `${tool.name}@${tool.version}`;
    if (limit !== undefined && (concurrency.get(slotKey) ?? 0) >= limit) {
      throw limitExceeded(`tool "${tool.name}" is already running its maximum of ${limit} calls`, 1000, "CONCURRENCY_LIMIT");
    }
    if (draining) throw shuttingDown();
    if (limit !== undefined) concurrency.set(slotKey, (concurrency.get(slotKey) ?? 0) + 1);
    const toolTimeout = manifest.timeoutMs ?? defaultTimeoutMs;
    // The tightest of the tool's timeout, the client's deadline and, for streams, the stream cap.
    let timeoutMs = toolTimeout;
    let limitedBy: DeadlineSource = "tool";
    if (request.sink !== undefined && maxStreamDurationMs < timeoutMs) {
      timeoutMs = maxStreamDurationMs;
      limitedBy = "stream";
    }
    if (request.clientTimeoutMs !== undefined && request.clientTimeoutMs < timeoutMs) {
      timeoutMs = request.clientTimeoutMs;
      limitedBy = "client";
    }
    const ctx = new CallContext(principal, requestId, Date.now() + timeoutMs, request.sink);
    running.add(ctx);
    if (observed !== undefined) {
      observed.executed = true;
      notify(observers, (o) => o.callStarted?.(observed));
    }
    try {
      return await execute(tool, args, request, ctx, timeoutMs, limitedBy);
    } finally {
      running.delete(ctx);
      if (limit !== undefined) {
        // The slot is the handler's, not the answer's: a handler still winding down after an
        // abort (killing a process, say) keeps it until it settles.
        if (ctx.pending === undefined) releaseSlot(slotKey);
        else ctx.pending.then(() => releaseSlot(slotKey), () => releaseSlot(slotKey));
      }
      if (running.size === 0) for (const resolve of idleWaiters.splice(0)) resolve();
    }
  }

  function releaseSlot(key: string): void {
    const left = (concurrency.get(key) ?? 1) - 1;
    if (left === 0) concurrency.delete(key);
    else concurrency.set(key, left);
  }

  async function execute(
    tool: RegisteredTool,
    args: JsonObject,
    request: CallRequest,
    ctx: CallContext,
    timeoutMs: number,
    limitedBy: DeadlineSource,
  ): Promise<CallResult> {
    const requestId = ctx.requestId;
    if (request.signal.aborted) throw transportAbortReason(tool.name, request.signal.reason);

    const started = performance.now();
    let returned: unknown;
    let failure: unknown;
    let failed = false;
    try {
      returned = tool.handler(args, ctx);
      // A synchronous handler has already finished: no timer or abort wiring is needed.
      if (isThenable(returned)) {
        ctx.pending = returned;
        returned = await settleWithinLimits(returned, ctx, request.signal, tool.name, timeoutMs, limitedBy);
      }
    } catch (err) {
      failed = true;
      failure = err;
    }
    const executionTimeMs = performance.now() - started;
    // Once aborted, the abort reason is the answer whatever the handler did afterwards.
    if (ctx.aborted) throw ctx.signal.reason;

    const warnings = tool.manifest.deprecated === true ? [deprecationWarning(tool, registry)] : [];
    const collected = ctx.collected;
    if (failed) {
      if (failure instanceof ConnectError) throw failure;
      if (!(failure instanceof ToolError)) options.onHandlerError?.(tool, requestId, failure);
      const content: Content[] = [...collected, { type: "text", text: handlerErrorMessage(tool, failure, requestId) }];
      return callResult(tool, content, undefined, true, executionTimeMs, warnings, requestId);
    }

    let content: readonly Content[];
    let structured: unknown;
    let isError = false;
    if (isToolResult(returned)) {
      structured = returned.structuredContent;
      isError = returned.isError === true;
      content = returned.content ?? (structured === undefined ? [] : [{ type: "text", text: JSON.stringify(structured) }]);
    } else if (typeof returned === "string") {
      content = [{ type: "text", text: returned }];
    } else if (returned === undefined || returned === null) {
      content = [];
    } else {
      structured = returned;
      content = [{ type: "text", text: JSON.stringify(returned) }];
    }
    if (structured !== undefined && !isPlainObject(structured)) {
      // Struct holds objects only; other JSON values travel as text.
      structured = undefined;
    }
    if (!isError && tool.validateOutput !== undefined && !tool.validateOutput(structured ?? null)) {
      throw invalidOutput(tool.name, toViolations(tool.validateOutput.errors));
    }
    if (collected.length > 0) content = [...collected, ...content];
    return callResult(tool, content, structured as JsonObject | undefined, isError, executionTimeMs, warnings, requestId);
  }

  return {
    call,
    authenticate,
    observe(observer) {
      observers = [...observers, observer];
      return () => {
        observers = observers.filter((o) => o !== observer);
      };
    },
    canCall(principal, tool) {
      return accessOf(principal, tool) === undefined;
    },
    resolveFor,
    get inFlight() {
      return running.size;
    },
    get draining() {
      return draining;
    },
    async drain(graceMs) {
      draining = true;
      if (running.size === 0) return;
      const allDone = new Promise<void>((resolve) => idleWaiters.push(resolve));
      const grace = setTimeout(() => {
        for (const ctx of running) ctx.abort(shuttingDown());
      }, graceMs);
      await allDone;
      clearTimeout(grace);
    },
  };
}

interface MutableObservedCall {
  requestId: string;
  toolName: string;
  toolVersion: string | undefined;
  tool: RegisteredTool | undefined;
  principal: Principal | undefined;
  caller: CallerInfo;
  arguments: JsonObject | undefined;
  executed?: boolean;
}


// Unique per process, cheap per call: a random prefix and a counter.
const requestIdPrefix = randomBytes(6).toString("hex");
let requestCounter = 0;
/** A fresh request id, unique in this process, for a call whose client named none. */
export function nextRequestId(): string {
  return `${requestIdPrefix}-${(++requestCounter).toString(36)}`;
}

/**
 * The ToolContext of one call. A class rather than an object of closures so that a call costs
 * one allocation; the AbortController is only made when someone needs the signal.
 */
class CallContext implements ToolContext {
  /** Partial content of a call without a sink, collected into the result. */
  readonly collected: Content[] = [];
  /** The handler's own promise, when it returned one; settles when the handler is really done. */
  pending: PromiseLike<unknown> | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly principal: Principal,
    readonly requestId: string,
    readonly deadline: number,
    private readonly sink: CallSink | undefined,
  ) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.controller?.signal.aborted === true;
  }

  abort(reason: ConnectError): void {
    this.controller ??= new AbortController();
    this.controller.abort(reason);
  }

  progress(done: number, total?: number, message?: string): void {
    if (!this.aborted) this.sink?.progress?.(done, total, message ?? "");
  }

  partial(content: Content | readonly Content[] | string): void {
    if (this.aborted) return;
    const blocks: readonly Content[] =
      typeof content === "string" ? [{ type: "text", text: content }] : Array.isArray(content) ? content : [content as Content];
    if (this.sink?.partial) this.sink.partial(blocks);
    else this.collected.push(...blocks);
  }

  log(level: ToolLogLevel, message: string): void {
    if (!this.aborted) this.sink?.log?.(level, message);
  }
}

/**
 * Waits for an asynchronous handler, but no longer than the call's time limit and no longer than
 * the transport keeps the call: either aborts the handler's signal and rejects with the reason.
 */
async function settleWithinLimits<T>(
  promise: PromiseLike<T>,
  ctx: CallContext,
  transportSignal: AbortSignal,
  tool: string,
  timeoutMs: number,
  limitedBy: DeadlineSource,
): Promise<T> {
  const timer = setTimeout(abortOnTimeout, timeoutMs, ctx, tool, timeoutMs, limitedBy);
  const onTransportAbort = () => ctx.abort(transportAbortReason(tool, transportSignal.reason));
  if (transportSignal.aborted) onTransportAbort();
  else transportSignal.addEventListener("abort", onTransportAbort, { once: true });
  try {
    return await abortable(promise, ctx.signal);
  } finally {
    clearTimeout(timer);
    transportSignal.removeEventListener("abort", onTransportAbort);
  }
}

function abortOnTimeout(ctx: CallContext, tool: string, timeoutMs: number, limitedBy: DeadlineSource): void {
  ctx.abort(deadlineExceeded(tool, timeoutMs, limitedBy));
}

/** Authorization of `principal` for a registered tool: undefined when allowed, else the error. */
function accessOf(principal: Principal, tool: RegisteredTool): ConnectError | undefined {
  return checkAccess(principal, { name: tool.name, securityLevel: tool.securityLevel, category: tool.manifest.category });
}

function callResult(
  tool: RegisteredTool,
  content: readonly Content[],
  structuredContent: JsonObject | undefined,
  isError: boolean,
  executionTimeMs: number,
  warnings: readonly string[],
  requestId: string,
): CallResult {
  return { content, structuredContent, isError, toolName: tool.name, toolVersion: tool.version, executionTimeMs, warnings, requestId };
}

function transportAbortReason(tool: string, reason: unknown): ConnectError {
  if (reason instanceof ConnectError && reason.code !== Code.Canceled) return reason;
  return canceled(tool);
}

function deprecationWarning(tool: RegisteredTool, registry: ToolRegistry): string {
  const current = registry.resolve(tool.name);
  return current.version === tool.version || current.manifest.deprecated === true
    ? `tool "${tool.name}" version ${tool.version} is deprecated`
    : `tool "${tool.name}" version ${tool.version} is deprecated; use version ${current.version}`;
}

function handlerErrorMessage(tool: RegisteredTool, error: unknown, requestId: string): string {
  if (error instanceof ToolError) {
    // A ToolError's message is written for the caller: one line, bounded.
    return error.message.split("\n", 1)[0]?.slice(0, 1000) ?? "";
  }
  // Anything else may carry internals (paths, queries, secrets): it stays in the server's log.
  return `tool "${tool.name}" failed with an unexpected error; the server log has the details (request ${requestId})`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Depth of nested objects and arrays, counting stops past `limit` so hostile input costs little. */
function nestingDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== "object" || node === null) continue;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return max;
}
