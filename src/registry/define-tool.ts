import type { FromSchema, JSONSchema } from "json-schema-to-ts";
import type { ToolContext } from "./tool-context.js";
import type { ToolDescriptor, ToolManifest } from "./tool-descriptor.js";
import type { ToolResult } from "./tool-result.js";

/**
 * The code behind a tool. It returns its output object (which becomes the structured result and
 * a JSON text block), a string (a text block), or a full {@link ToolResult}.
 */
export type ToolHandler<I = Record<string, unknown>, O = Record<string, unknown>> = (
  input: I,
  ctx: ToolContext,
) => O | string | ToolResult<O> | Promise<O | string | ToolResult<O>>;

/** A manifest bound to its handler, ready to register. */
export interface ToolDefinition<I = Record<string, unknown>, O = Record<string, unknown>> {
  /** The tool's descriptor. */
  readonly descriptor: ToolDescriptor<I, O>;
  /** The tool's handler. */
  readonly handler: ToolHandler<I, O>;
}

/**
 * Any tool definition, whatever its input and output types: what the registry accepts.
 * (Input is contravariant in the handler, hence `never` there.)
 */
export interface AnyToolDefinition {
  /** The tool's descriptor. */
  readonly descriptor: ToolDescriptor<unknown, unknown>;
  /** The tool's handler. */
  readonly handler: ToolHandler<never, unknown>;
}

/** The JSON Schema of an object; json-schema-to-ts reads its type when it is written out. */
interface ObjectJsonSchema {
  readonly type: "object";
}

/**
 * A manifest written out where the tool is defined (in the call, or a constant `as const`): its
 * `input` and `output` schemas type the handler, as the generated descriptors do.
 */
export type InlineToolManifest = Omit<ToolManifest, "tags" | "input" | "output"> & {
  /** Search tags. */
  readonly tags?: readonly string[];
  /** JSON Schema of the arguments object. */
  readonly input: ObjectJsonSchema;
  /** JSON Schema of the structured result. */
  readonly output?: ObjectJsonSchema;
};

/**
 * The type a schema describes; any object for a schema whose keys are not known (a manifest typed
 * `ToolManifest` rather than written out), which json-schema-to-ts cannot read and would expand
 * without end.
 */
type TypeOfSchema<S> = string extends keyof S ? Record<string, unknown> : S extends JSONSchema ? FromSchema<S> : Record<string, unknown>;

/** The handler input an inline manifest's `input` schema describes (defaults filled in, as the server does). */
export type InlineToolInput<M extends InlineToolManifest> = TypeOfSchema<M["input"]>;

/** The output an inline manifest's `output` schema describes; any object when it has none. */
export type InlineToolOutput<M extends InlineToolManifest> = M extends { readonly output: infer S extends ObjectJsonSchema }
  ? TypeOfSchema<S>
  : Record<string, unknown>;

/**
 * Binds a handler to a tool: pass the generated descriptor for typed input and output, or a
 * manifest. A manifest written out in the call (or a constant `as const`) types the handler from
 * its schemas the way the descriptor would; one only known as a `ToolManifest` (read from a file)
 * leaves input and output any object.
 */
export function defineTool<I, O>(
  descriptor: ToolDescriptor<I, O>,
  handler: ToolHandler<I, O>,
): ToolDefinition<I, O>;
export function defineTool<const M extends InlineToolManifest>(
  manifest: M,
  handler: ToolHandler<InlineToolInput<M>, InlineToolOutput<M>>,
): ToolDefinition<InlineToolInput<M>, InlineToolOutput<M>>;
export function defineTool(
  descriptorOrManifest: ToolDescriptor<unknown, unknown> | ToolManifest | InlineToolManifest,
  handler: ToolHandler<never, unknown>,
): AnyToolDefinition {
  // The overloads give the types; at run time every definition is a descriptor and a handler.
  // A manifest cannot have a "manifest" property (the meta-schema forbids unknown ones).
  const descriptor: ToolDescriptor<unknown, unknown> =
    "manifest" in descriptorOrManifest && typeof descriptorOrManifest.manifest === "object"
      ? (descriptorOrManifest as ToolDescriptor<unknown, unknown>)
      : { manifest: descriptorOrManifest as ToolManifest };
  return { descriptor, handler };
}
