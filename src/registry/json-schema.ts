import { createRequire } from "node:module";
import type { Ajv2020, ErrorObject } from "ajv/dist/2020.js";
import type addFormatsModule from "ajv-formats";
import { didYouMean } from "../runtime/did-you-mean.js";

/** ajv's compiler and ajv-formats, loaded on the first compile: the schemas a server validates at every start are compiled ahead of time. */
interface AjvCompiler {
  readonly Ajv2020: typeof Ajv2020;
  readonly addFormats: typeof addFormatsModule.default;
}

let loaded: AjvCompiler | undefined;

function ajvCompiler(): AjvCompiler {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    loaded = {
      Ajv2020: (require("ajv/dist/2020.js") as { Ajv2020: typeof Ajv2020 }).Ajv2020,
      addFormats: require("ajv-formats") as typeof addFormatsModule.default,
    };
  }
  return loaded;
}

/** Options of {@link createSchemaCompiler}. */
export interface SchemaCompilerOptions {
  /** Fill `default` values into validated data (default true: tool arguments get their defaults). */
  readonly useDefaults?: boolean;
  /** ajv's code options (standalone code generation sets `source` and `esm`). */
  readonly code?: { readonly source?: boolean; readonly esm?: boolean };
}

/**
 * Creates the ajv instance used for manifests and tool schemas: draft 2020-12, every violation
 * reported, defaults applied, formats checked, strict so that schema typos fail at load time.
 * It does not check schemas against the draft's meta-schema (each instance would compile that
 * meta-schema anew, the bulk of a tool's registration): check untrusted schemas with
 * {@link assertValidSchema} before compiling them.
 */
export function createSchemaCompiler(options: SchemaCompilerOptions = {}): Ajv2020 {
  const { Ajv2020, addFormats } = ajvCompiler();
  const ajv = new Ajv2020({
    allErrors: true,
    useDefaults: options.useDefaults ?? true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    validateSchema: false,
    ...(options.code === undefined ? {} : { code: { ...options.code } }),
    // Keywords json-schema-to-typescript understands; allowed so manifests may use them.
    keywords: ["tsType", "tsEnumNames"],
  });
  addFormats(ajv);
  return ajv;
}

// One instance checks every schema against the draft 2020-12 meta-schema, compiled once.
let draftChecker: Ajv2020 | undefined;

/** Throws, as ajv's own compile would, when `schema` breaks the JSON Schema 2020-12 meta-schema. */
export function assertValidSchema(schema: unknown): void {
  draftChecker ??= new (ajvCompiler().Ajv2020)({ allErrors: true, strict: false });
  if (draftChecker.validateSchema(schema as object) !== true) {
    throw new Error(`schema is invalid: ${draftChecker.errorsText(draftChecker.errors)}`);
  }
}

/** One schema violation: where, which keyword, and what is wrong. */
export interface SchemaViolation {
  /** JSON pointer into the validated value ("" is the value itself). */
  readonly pointer: string;
  /** The failing keyword, e.g. "required". */
  readonly keyword: string;
  /** What is wrong, for a person. */
  readonly message: string;
}

/**
 * Turns ajv errors into violations whose pointers name the offending property. Given the schema
 * validated against, an unknown property also gets the closest known one ("did you mean").
 */
export function toViolations(errors: readonly ErrorObject[] | null | undefined, rootSchema?: unknown): SchemaViolation[] {
  // An "if" error only says a then/else branch failed; that branch's own errors say how.
  return (errors ?? []).filter((e) => e.keyword !== "if").map((e) => {
    let pointer = e.instancePath;
    let message = e.message ?? "is invalid";
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case "required":
        pointer = `${pointer}/${escapePointer(String(params.missingProperty))}`;
        message = "is required";
        break;
      case "additionalProperties":
        pointer = `${pointer}/${escapePointer(String(params.additionalProperty))}`;
        message = `is not allowed (unknown property)${knownPropertyHint(String(params.additionalProperty), e.schemaPath, rootSchema)}`;
        break;
      case "enum":
        message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
        break;
      case "const":
        message = `must be ${JSON.stringify(params.allowedValue)}`;
        break;
    }
    return { pointer, keyword: e.keyword, message };
  });
}

/** Formats violations as `<pointer>: <message>` joined by "; ", naming the root `rootLabel`. */
export function formatViolations(violations: readonly SchemaViolation[], rootLabel = "(root)"): string {
  return violations.map((v) => `${v.pointer === "" ? rootLabel : v.pointer}: ${v.message}`).join("; ");
}

/** `; did you mean "x"?` naming the closest property the failing schema declares, or "". */
function knownPropertyHint(unknown: string, schemaPath: string, rootSchema: unknown): string {
  if (rootSchema === undefined) return "";
  // schemaPath is a JSON pointer into the root schema ("#/properties/server/additionalProperties"),
  // through $ref targets too ("#/$defs/secret/oneOf/0/additionalProperties").
  const segments = schemaPath.replace(/^#\/?/, "").split("/").slice(0, -1);
  let schema: unknown = rootSchema;
  for (const segment of segments) {
    if (typeof schema !== "object" || schema === null) return "";
    schema = (schema as Record<string, unknown>)[segment.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  const properties = typeof schema === "object" && schema !== null ? (schema as { properties?: unknown }).properties : undefined;
  if (typeof properties !== "object" || properties === null) return "";
  return didYouMean(unknown, Object.keys(properties));
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}
