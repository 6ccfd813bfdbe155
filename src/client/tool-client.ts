import type { JsonObject } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Transport } from "@connectrpc/connect";
import { ToolService, type CallToolResponse } from "../../gen/proto/toolwire/v1/tool_service_pb.js";

/** The shape of a generated ToolMap: tool name → input and output types. */
export type ToolMapShape<M> = { readonly [K in keyof M]: { readonly input: unknown; readonly output: unknown } };

/** One typed method per tool: call it with the tool's input, get its output. */
export type ToolClient<M extends ToolMapShape<M>> = {
  readonly [K in keyof M]: (input: M[K]["input"], options?: ToolCallOptions) => Promise<M[K]["output"]>;
};

/** Options of a typed tool call. */
export interface ToolCallOptions extends CallOptions {
  /** Exact version or semver range to call; default: the server's default version. */
  readonly version?: string;
}

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

/**
 * Creates a client whose methods are the tools of a generated ToolMap, so that
 * `tools.calculator({ operation: "add", a: 1, b: 2 })` is checked against the manifest and
 * resolves to the tool's structured output. An is_error result rejects with {@link ToolCallError};
 * protocol errors reject with the ConnectError. `names` are the tools to expose (the generated
 * `createTools` passes every manifest's name).
 */
export function createToolClient<M extends ToolMapShape<M>>(transport: Transport, names: readonly (keyof M & string)[]): ToolClient<M> {
  const client = createClient(ToolService, transport);
  const call = (name: string) => async (input: JsonObject, options: ToolCallOptions = {}) => {
    const { version, ...callOptions } = options;
    const result = await client.callTool({ name, version, arguments: input }, callOptions);
    if (result.isError) {
      const text = result.content.flatMap((c) => (c.block.case === "text" ? [c.block.value.text] : [])).join("\n");
      throw new ToolCallError(text || `tool "${name}" failed`, result);
    }
    return result.structuredContent;
  };
  return Object.freeze(Object.fromEntries(names.map((name) => [name, call(name)]))) as ToolClient<M>;
}
