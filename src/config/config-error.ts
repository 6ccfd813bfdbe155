import type { SchemaViolation } from "../registry/json-schema.js";

/**
 * A configuration that cannot be used. The message names where it came from (the file, or the
 * environment variable or flag), the JSON pointer and the reason of every problem.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    /** The config file, or "environment" / "command line". */
    readonly source: string,
    /** Every problem found. */
    readonly violations: readonly SchemaViolation[],
  ) {
    super(
      `invalid configuration ${source}:\n` +
        violations.map((v) => `  ${v.pointer === "" ? "(root)" : v.pointer}: ${v.message}`).join("\n"),
    );
  }
}
