import type { ValidateFunction } from "ajv";
import type { ToolDefinition } from "../../src/registry/define-tool.js";
import { createSchemaCompiler, formatViolations, toViolations, type SchemaViolation } from "../../src/registry/json-schema.js";

/** Outcome of validating one value: the (default-filled) value and any violations. */
export interface Validation<T> {
  readonly valid: boolean;
  /** A copy of the value with schema defaults applied. */
  readonly value: T;
  readonly violations: readonly SchemaViolation[];
  /** Violations as one line, for assertion messages. */
  readonly message: string;
}

/** Validator of a tool's input schema, compiled the way the registry compiles it. */
export function inputValidator<I, O>(tool: ToolDefinition<I, O>): (value: unknown) => Validation<I> {
  return validator<I>(tool.descriptor.manifest.input);
}

/** Validator of a tool's output schema. */
export function outputValidator<I, O>(tool: ToolDefinition<I, O>): (value: unknown) => Validation<O> {
  const schema = tool.descriptor.manifest.output;
  if (schema === undefined) throw new Error(`${tool.descriptor.manifest.name} has no output schema`);
  return validator<O>(schema);
}

function validator<T>(schema: object): (value: unknown) => Validation<T> {
  const validate: ValidateFunction = createSchemaCompiler().compile(schema);
  return (value) => {
    const copy = structuredClone(value) as T;
    const valid = validate(copy);
    const violations = toViolations(validate.errors);
    return { valid, value: copy, violations, message: formatViolations(violations) };
  };
}
