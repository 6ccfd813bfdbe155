import type { JsonObject } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Transport } from "@connectrpc/connect";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { toolCallError, toToolStream, type ToolStream } from "./tool-stream.js";

export { ToolCallError } from "./tool-stream.js";

/** The shape of a generated ToolMap: tool name → input type, output type and streaming flag. */
export type ToolMapShape<M> = {
  readonly [K in keyof M]: { readonly input: unknown; readonly output: unknown; readonly streaming: boolean };
};

/** Options of one tool call. */
export interface ToolCallOptions extends CallOptions {
  /** Exact version or semver range to call; default: the server's default version. */
  readonly version?: string;
  /**
   * Marks the call as safe to send again: it travels as the `idempotency-key` header and lets the
   * client retry a call to a tool whose manifest does not say `idempotentHint`. Use one key per
   * logical operation.
   */
  readonly idempotencyKey?: string;
}

/** The arguments of a tool method: the input may be left out when every field is optional. */
type ToolArgs<I> = {} extends I ? [input?: I, options?: ToolCallOptions] : [input: I, options?: ToolCallOptions];

/**
 * One typed tool method: a unary tool resolves to its output; a streaming tool returns an async
 * iterable of progress, partial content and logs ending in the typed result.
 */
export type ToolMethod<T extends { readonly input: unknown; readonly output: unknown; readonly streaming: boolean }> =
  T["streaming"] extends true
    ? (...args: ToolArgs<T["input"]>) => ToolStream<T["output"]>
    : (...args: ToolArgs<T["input"]>) => Promise<T["output"]>;

/** One typed method per tool of a generated ToolMap. */
export type ToolClient<M extends ToolMapShape<M>> = { readonly [K in keyof M]: ToolMethod<M[K]> };

/** What the client needs to know of each tool: whether it streams, and the version its types are of. */
export type ToolClientDescriptors<M> = {
  readonly [K in keyof M]: { readonly manifest: ToolClientManifest };
};

/** The part of a manifest a typed tool client reads. */
interface ToolClientManifest {
  readonly streaming?: boolean | undefined;
  readonly version?: string | undefined;
}

/**
 * Which version a typed tool method calls when the call names none: the server's "default", or
 * the semver range "compatible" (`^`) with the version the types were generated from.
 */
export type ToolVersionPolicy = "default" | "compatible";

/** Defaults of the calls a typed tool client makes. */
export interface ToolClientOptions {
  /** Deadline of unary calls that set none, in ms; absent: the transport's default. */
  readonly timeoutMs?: number;
  /** Deadline of streaming calls that set none, in ms; absent: the transport's default. */
  readonly streamTimeoutMs?: number;
  /** Version called when a call names none (see {@link ToolVersionPolicy}); default "default". */
  readonly toolVersions?: ToolVersionPolicy;
}

/**
 * Call options with the idempotency key turned into its header and the default deadline applied.
 * Used by every call path of the client so that the retry policy sees the same request shape.
 */
export function toCallOptions(options: ToolCallOptions, defaultTimeoutMs: number | undefined): CallOptions {
  const { version: _version, idempotencyKey, ...call } = options;
  const timeoutMs = call.timeoutMs ?? defaultTimeoutMs;
  if (idempotencyKey === undefined) return timeoutMs === undefined ? call : { ...call, timeoutMs };
  const headers = new Headers(call.headers);
  headers.set("idempotency-key", idempotencyKey);
  return { ...call, ...(timeoutMs === undefined ? {} : { timeoutMs }), headers };
}

/**
 * Creates a client whose methods are the tools of a generated ToolMap, so that
 * `tools.calculator({ operation: "add", a: 1, b: 2 })` is checked against the manifest and
 * resolves to the tool's structured output. An is_error result rejects with
 * {@link ToolCallError}; protocol errors reject with the ConnectError. Streaming tools (manifest
 * `streaming: true`) return an async iterable of typed stream events instead. The generated
 * `createTools` passes the descriptors of every manifest.
 */
export function createToolClient<M extends ToolMapShape<M>>(
  transport: Transport,
  descriptors: ToolClientDescriptors<M>,
  options: ToolClientOptions = {},
): ToolClient<M> {
  const client = createClient(ToolService, transport);
  const unary = (name: string, pinned: string | undefined) => async (input: JsonObject = {}, callOptions: ToolCallOptions = {}) => {
    const result = await client.callTool(
      { name, version: callOptions.version ?? pinned, arguments: input },
      toCallOptions(callOptions, options.timeoutMs),
    );
    if (result.isError) throw toolCallError(name, result);
    return result.structuredContent;
  };
  const stream = (name: string, pinned: string | undefined) => (input: JsonObject = {}, callOptions: ToolCallOptions = {}) =>
    toToolStream(
      name,
      client.callToolStream(
        { name, version: callOptions.version ?? pinned, arguments: input },
        toCallOptions(callOptions, options.streamTimeoutMs),
      ),
      true,
    );
  const entries = Object.entries<{ readonly manifest: ToolClientManifest }>(descriptors).map(
    ([name, { manifest }]) => {
      const pinned = options.toolVersions === "compatible" && manifest.version !== undefined ? `^${manifest.version}` : undefined;
      return [name, manifest.streaming === true ? stream(name, pinned) : unary(name, pinned)] as const;
    },
  );
  return Object.freeze(Object.fromEntries(entries)) as unknown as ToolClient<M>;
}
