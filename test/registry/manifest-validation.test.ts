import { describe, expect, it } from "vitest";
import { ManifestError, validateManifest } from "../../src/registry/manifest-validation.js";
import { manifest } from "../helpers/registry-fixtures.js";

const source = "schemas/tools/sample.json";

/** Validates `value` and returns the ManifestError it must throw. */
function manifestError(value: unknown): ManifestError {
  try {
    validateManifest(value, source);
  } catch (err) {
    if (err instanceof ManifestError) return err;
    throw new Error(`expected a ManifestError, got ${String(err)}`, { cause: err });
  }
  throw new Error("expected the manifest to be refused, but it was accepted");
}

/** Asserts the error names the source file, the pointer and the reason, in message and violations. */
function expectProblem(err: ManifestError, pointer: string, reason: RegExp): void {
  expect(err.source).toBe(source);
  expect(err.message).toContain(source);
  const violation = err.violations.find((v) => v.pointer === pointer);
  expect(violation, `no violation at ${pointer} in ${JSON.stringify(err.violations)}`).toBeDefined();
  expect(violation?.message).toMatch(reason);
  const line = err.message.split("\n").find((l) => l.trim().startsWith(`${pointer}: `));
  expect(line, `message has no line for ${pointer}:\n${err.message}`).toBeDefined();
  expect(line).toMatch(reason);
}

/** A manifest without one of its fields. */
function without(field: keyof ReturnType<typeof manifest>): Record<string, unknown> {
  const m: Record<string, unknown> = { ...manifest() };
  delete m[field];
  return m;
}

describe("validateManifest", () => {
  it("accepts a complete valid manifest and returns it", () => {
    const value = manifest({
      title: "Sample",
      category: "utility",
      tags: ["a", "b"],
      securityLevel: "restricted",
      timeoutMs: 1000,
      rateLimit: { maxCalls: 5, windowSeconds: 1.5 },
      maxConcurrency: 2,
      deprecated: false,
      experimental: true,
      streaming: true,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      input: {
        type: "object",
        additionalProperties: false,
        properties: { text: { type: "string", format: "email" }, n: { type: "integer", default: 3 } },
      },
      output: { type: "object", properties: { ok: { type: "boolean" } } },
    });
    expect(validateManifest(value, source)).toBe(value);
  });

  it("accepts a minimal manifest", () => {
    expect(() => validateManifest(manifest(), source)).not.toThrow();
  });

  it("refuses a manifest without a description", () => {
    expectProblem(manifestError(without("description")), "/description", /is required/);
  });

  it("refuses an empty description", () => {
    expectProblem(manifestError(manifest({ description: "" })), "/description", /fewer than 1 characters/);
  });

  it("refuses a name with characters outside [A-Za-z0-9_.-]", () => {
    expectProblem(manifestError(manifest({ name: "my tool!" })), "/name", /must match pattern/);
  });

  it("refuses a name longer than 128 characters", () => {
    expect(() => validateManifest(manifest({ name: "a".repeat(128) }), source)).not.toThrow();
    expectProblem(manifestError(manifest({ name: "a".repeat(129) })), "/name", /must match pattern/);
  });

  it("refuses a version that is not semver", () => {
    for (const version of ["1.0", "v1.0.0", "01.0.0", "1.0.0-"]) {
      const err = manifestError(manifest({ version }));
      expectProblem(err, "/version", /must be a semantic version like 1\.0\.0$/);
      expect(err.message).not.toContain("pattern");
    }
  });

  it("accepts pre-release and build versions", () => {
    expect(() => validateManifest(manifest({ version: "2.0.0-beta.1+build.7" }), source)).not.toThrow();
  });

  it("refuses an unknown top-level field", () => {
    expectProblem(manifestError({ ...manifest(), inputSchema: { type: "object" } }), "/inputSchema", /not allowed/);
  });

  it("suggests the known field closest to a misspelt one", () => {
    expectProblem(manifestError({ ...manifest(), descripton: "x" }), "/descripton", /not allowed \(unknown property\); did you mean "description"\?$/);
    expectProblem(manifestError(manifest({ annotations: { readOnlyHnt: true } as never })), "/annotations/readOnlyHnt", /did you mean "readOnlyHint"\?$/);
  });

  it("refuses a securityLevel outside the enum and lists the allowed levels", () => {
    const err = manifestError({ ...manifest(), securityLevel: "root" });
    expectProblem(err, "/securityLevel", /must be one of "public", "authenticated", "restricted", "admin"/);
  });

  it("refuses an input schema without type object", () => {
    expectProblem(manifestError(manifest({ input: { properties: {} } as never })), "/input/type", /is required/);
    expectProblem(manifestError(manifest({ input: { type: "string" } as never })), "/input/type", /must be "object"/);
  });

  it("refuses an output schema without type object", () => {
    expectProblem(manifestError(manifest({ output: { type: "array" } as never })), "/output/type", /must be "object"/);
  });

  it("refuses an input schema that does not compile", () => {
    const err = manifestError(
      manifest({ input: { type: "object", properties: { a: { type: "strng" } } } }),
    );
    expectProblem(err, "/input", /not a usable JSON Schema/);
    expect(err.message).toMatch(/properties\/a\/type/);
  });

  it("refuses an output schema with an unknown keyword (strict mode)", () => {
    const err = manifestError(manifest({ output: { type: "object", propertees: {} } }));
    expectProblem(err, "/output", /not a usable JSON Schema.*propertees/);
  });

  it("refuses a rateLimit with maxCalls 0", () => {
    const err = manifestError(manifest({ rateLimit: { maxCalls: 0, windowSeconds: 60 } }));
    expectProblem(err, "/rateLimit/maxCalls", /must be >= 1/);
  });

  it("refuses a rateLimit with a window of 0 seconds", () => {
    const err = manifestError(manifest({ rateLimit: { maxCalls: 1, windowSeconds: 0 } }));
    expectProblem(err, "/rateLimit/windowSeconds", /must be > 0/);
  });

  it("reports every problem of a manifest at once", () => {
    const err = manifestError({ ...manifest({ name: "bad name", version: "x" }), securityLevel: "root", extra: 1 });
    expect(err.violations.map((v) => v.pointer).sort()).toEqual(["/extra", "/name", "/securityLevel", "/version"]);
    expect(err.message.split("\n")).toHaveLength(5);
  });

  it("names the value itself when it is not an object", () => {
    const err = manifestError("not a manifest");
    expect(err.message).toContain(source);
    expect(err.message).toMatch(/\(root\): must be object/);
  });

  it("names an inline manifest when no source is given", () => {
    expect(() => validateManifest({})).toThrow(/invalid tool manifest \(inline manifest\)/);
  });
});
