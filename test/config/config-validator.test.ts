import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ValidateFunction } from "ajv";
import { validate as generated } from "../../gen/schema/config-validator.js";
import { configValidatorOptions } from "../../src/codegen/compile-config-validator.js";
import { createSchemaCompiler } from "../../src/registry/json-schema.js";
import { docBlocks, docPages } from "../helpers/readme.js";

const root = join(import.meta.dirname, "../..");
const schema = JSON.parse(await readFile(join(root, "schemas/config.schema.json"), "utf8")) as object;
// The generated module is untyped ajv output: it is an ajv validate function.
const compiled = generated as unknown as ValidateFunction;
// The reference: ajv compiling the schema at run time, with the options the generated code was made with.
const reference = createSchemaCompiler(configValidatorOptions).compile(schema);

/** Configs to compare on: every JSON config of the docs, and broken variants of a full one. */
async function corpus(): Promise<unknown[]> {
  const documented = (await Promise.all(docPages.map((page) => docBlocks(page))))
    .flat()
    .filter((b) => b.lang === "json")
    .flatMap((b) => {
      try {
        return [JSON.parse(b.code) as unknown];
      } catch {
        return [];
      }
    });
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
  return [{}, full, ...broken, ...documented];
}

describe("the generated config validator", () => {
  it("answers as ajv compiling the schema at run time does, errors included, on every documented and broken config", async () => {
    const configs = await corpus();
    expect(configs.length).toBeGreaterThan(15);
    let invalid = 0;
    for (const config of configs) {
      const expected = reference(structuredClone(config));
      expect(compiled(structuredClone(config)), JSON.stringify(config)).toBe(expected);
      expect(compiled.errors ?? null, JSON.stringify(config)).toEqual(reference.errors ?? null);
      if (!expected) invalid++;
    }
    expect(invalid).toBeGreaterThanOrEqual(11);
  });
});
