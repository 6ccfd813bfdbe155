import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { validate as configValidator } from "../../gen/schema/config-validator.js";
import { validate as manifestValidator } from "../../gen/schema/tool-manifest-validator.js";
import { precompiledOptions, precompiledSchemas } from "../../src/codegen/compile-validators.js";
import { createSchemaCompiler } from "../../src/registry/json-schema.js";
import { docBlocks, docPages } from "../helpers/readme.js";

const root = join(import.meta.dirname, "../..");

/** ajv compiling a schema at run time, with the options the generated code was made with: the reference. */
async function reference(path: string): Promise<ValidateFunction> {
  return createSchemaCompiler(precompiledOptions).compile(JSON.parse(await readFile(join(root, path), "utf8")) as object);
}

/** Asserts that `generated` answers as `expected` on every value, errors included; returns how many were invalid. */
function compare(generated: ValidateFunction, expected: ValidateFunction, values: readonly unknown[]): number {
  let invalid = 0;
  for (const value of values) {
    const valid = expected(structuredClone(value));
    expect(generated(structuredClone(value)), JSON.stringify(value)).toBe(valid);
    expect(generated.errors ?? null, JSON.stringify(value)).toEqual(expected.errors ?? null);
    if (!valid) invalid++;
  }
  return invalid;
}

/** Every JSON block of the docs. */
async function documentedJson(): Promise<unknown[]> {
  const blocks = (await Promise.all(docPages.map((page) => docBlocks(page)))).flat().filter((b) => b.lang === "json");
  return blocks.flatMap((b) => {
    try {
      return [JSON.parse(b.code) as unknown];
    } catch {
      return [];
    }
  });
}

describe("the validators npm run generate compiles ahead of time", () => {
  it("cover the schemas they were generated from", () => {
    expect(precompiledSchemas.map((s) => s.schema)).toEqual(["schemas/config.schema.json", "schemas/tool-manifest.schema.json"]);
  });

  it("answer for configs as ajv compiling the schema at run time does, errors included, on every documented and broken config", async () => {
    const full = {
      server: { host: "0.0.0.0", port: 8081, allowedHosts: ["tools.example.com"], corsOrigins: ["*"], trustedProxies: ["10.0.0.0/8"] },
      limits: { maxBodyBytes: 1048576, idleTimeoutMs: 30000 },
      auth: { apiKeys: [{ id: "ci", sha256: "a".repeat(64), level: "authenticated", grants: ["echo"] }], jwt: { secret: { env: "JWT_SECRET" } } },
      rateLimits: { perCaller: { points: 100, durationSeconds: 60 } },
      redis: { url: { env: "REDIS_URL" }, onUnavailable: "degraded" },
      monitoring: { level: "public", includeArguments: true },
      logging: { level: "debug", pretty: false },
      tools: { builtins: ["echo"], executeCommand: { allowCommands: ["git"], maxResponseBytes: 65536 } },
      pluginDirs: ["plugins"],
    };
    const broken = [
      { ...full, server: { ...full.server, port: 70000 } },
      { ...full, servr: {} },
      { ...full, logging: { level: "loud" } },
      { ...full, auth: { apiKeys: [{ id: "x" }] } },
      { ...full, tools: { builtins: ["nope"] } },
      { ...full, tools: { builtins: "all" } },
      { ...full, pluginDirs: "plugins" },
      { ...full, limits: { maxBodyBytes: -1, idleTimeoutMs: "soon" } },
      [],
      null,
      "config",
    ];
    const configs = [{}, full, ...broken, ...(await documentedJson())];
    expect(configs.length).toBeGreaterThan(15);
    const invalid = compare(configValidator as unknown as ValidateFunction, await reference("schemas/config.schema.json"), configs);
    expect(invalid).toBeGreaterThanOrEqual(broken.length);
  });

  it("answer for tool manifests as ajv compiling the meta-schema at run time does, on every manifest and broken ones", async () => {
    const dir = join(root, "schemas/tools");
    const manifests = await Promise.all((await readdir(dir)).map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as Record<string, unknown>));
    const [first = {}] = manifests;
    const broken = [
      { ...first, version: "1.0" },
      { ...first, name: "has space" },
      { ...first, securityLevel: "root" },
      { ...first, input: { type: "string" } },
      { ...first, timeoutMs: -5 },
      { ...first, descripton: "typo" },
      { name: "x" },
      42,
    ];
    const invalid = compare(manifestValidator as unknown as ValidateFunction, await reference("schemas/tool-manifest.schema.json"), [...manifests, ...broken]);
    expect(manifests.length).toBeGreaterThanOrEqual(7);
    expect(invalid).toBe(broken.length);
  });
});
