import manifestMetaSchema from "../../schemas/tool-manifest.schema.json" with { type: "json" };
import type { ToolManifest } from "./tool-descriptor.js";
import type { ErrorObject } from "ajv";
import { validate as precompiledMeta } from "../../gen/schema/tool-manifest-validator.js";
import { assertValidSchema, createSchemaCompiler, toViolations, type SchemaViolation } from "./json-schema.js";

/**
 * A manifest that breaks the meta-schema or carries an unusable input/output schema. The
 * message names the file, the JSON pointer and the reason of every problem.
 */
export class ManifestError extends Error {
  override name = "ManifestError";
  constructor(
    /** The manifest's file, or a description of where it came from. */
    readonly source: string,
    /** Every problem found. */
    readonly violations: readonly SchemaViolation[],
  ) {
    super(
      `invalid tool manifest ${source}:\n` +
        violations.map((v) => `  ${v.pointer === "" ? "(root)" : v.pointer}: ${v.message}`).join("\n"),
    );
  }
}

/**
 * The meta-schema's validator, compiled by `npm run generate` (no defaults: validating a manifest
 * must not change it, as generated descriptors mirror the files).
 */
const validateMeta = precompiledMeta as unknown as ((value: unknown) => value is ToolManifest) & { errors?: ErrorObject[] | null };

/**
 * Checks a parsed manifest against `schemas/tool-manifest.schema.json` and checks that its
 * `input` and `output` schemas compile. Used both by `npm run generate` and at load time, so the
 * two always agree. Throws {@link ManifestError}.
 */
export function validateManifest(value: unknown, source = "(inline manifest)"): ToolManifest {
  const manifest = checkManifestShape(value, source);
  // A throwaway ajv: ajv keeps what it compiled even after removeSchema, so checking with the
  // shared one would grow it with every manifest ever checked.
  const check = createSchemaCompiler({ useDefaults: false });
  compileManifestSchemas(manifest, source, (schema) => {
    assertValidSchema(schema);
    return check.compile(schema);
  });
  return manifest;
}

/** Checks a parsed manifest against the meta-schema only; throws {@link ManifestError}. */
export function checkManifestShape(value: unknown, source = "(inline manifest)"): ToolManifest {
  if (!validateMeta(value)) {
    throw new ManifestError(source, toViolations(validateMeta.errors, manifestMetaSchema).map(readablePattern));
  }
  return value;
}

/** What a pattern means, where the pattern itself (semver's is 200 characters) helps nobody. */
const patternMeanings: Readonly<Record<string, string>> = {
  "/version": "must be a semantic version like 1.0.0",
};

function readablePattern(violation: SchemaViolation): SchemaViolation {
  const meaning = violation.keyword === "pattern" ? patternMeanings[violation.pointer] : undefined;
  return meaning === undefined ? violation : { ...violation, message: meaning };
}

/**
 * Compiles a manifest's `input` and `output` schemas with `compile`, reporting every schema that
 * does not compile as a {@link ManifestError} naming `/input` or `/output`.
 */
export function compileManifestSchemas<V>(
  manifest: ToolManifest,
  source: string,
  compile: (schema: Record<string, unknown>) => V,
): { readonly input: V; readonly output: V | undefined } {
  const problems: SchemaViolation[] = [];
  const compiled: { input?: V; output?: V } = {};
  for (const key of ["input", "output"] as const) {
    const schema = manifest[key];
    if (schema === undefined) continue;
    try {
      compiled[key] = compile(schema as Record<string, unknown>);
    } catch (err) {
      problems.push({
        pointer: `/${key}`,
        keyword: "schema",
        message: `is not a usable JSON Schema: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
  if (problems.length > 0) throw new ManifestError(source, problems);
  return { input: compiled.input as V, output: compiled.output };
}
