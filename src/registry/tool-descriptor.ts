import type { ToolManifest } from "../../gen/schema/tool-manifest.js";

export type { ToolManifest };

/**
 * A tool's manifest together with the TypeScript types of its input and output, like a
 * protobuf-es GenService. `npm run generate` writes one per manifest into `gen/tools/`.
 */
export interface ToolDescriptor<I = Record<string, unknown>, O = Record<string, unknown>> {
  /** The manifest, as validated against the meta-schema. */
  readonly manifest: ToolManifest;
  /** Where the manifest came from (a path relative to the project), for error messages. */
  readonly source?: string;
  /** Phantom field carrying the types; never set at run time. */
  readonly types?: { readonly input: I; readonly output: O };
}

/** Input type of a descriptor. */
export type ToolInput<D> = D extends ToolDescriptor<infer I, unknown> ? I : never;

/** Output type of a descriptor. */
export type ToolOutput<D> = D extends ToolDescriptor<Record<string, unknown>, infer O> ? O : never;
