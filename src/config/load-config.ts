import { readFile } from "node:fs/promises";
import type { ToolwireConfig } from "../../gen/schema/config.js";
import configSchema from "../../schemas/config.schema.json" with { type: "json" };
import type { ErrorObject } from "ajv";
import { validate as compiledCheck } from "../../gen/schema/config-validator.js";
import { toViolations } from "../registry/json-schema.js";
import { createClientAddressResolver } from "../security/forwarded-for.js";
import { ConfigError } from "./config-error.js";
import { parseJson } from "./parse-json.js";

/** The config schema's validator, compiled by `npm run generate` (no defaults: the loaded config says only what the operator wrote). */
const checkSchema = compiledCheck as unknown as ((value: unknown) => value is ToolwireConfig) & { errors?: ErrorObject[] | null };

/** Checks a parsed configuration against `schemas/config.schema.json`; throws {@link ConfigError}. */
export function validateConfig(value: unknown, source: string): ToolwireConfig {
  if (!checkSchema(value)) throw new ConfigError(source, toViolations(checkSchema.errors, configSchema));
  const jwt = value.auth?.jwt;
  if (jwt !== undefined) {
    const sources = [jwt.secret, jwt.publicKeyFile, jwt.jwksFile].filter((s) => s !== undefined).length;
    if (sources !== 1) {
      throw new ConfigError(source, [
        { pointer: "/auth/jwt", keyword: "oneOf", message: "needs exactly one of secret, publicKeyFile or jwksFile" },
      ]);
    }
  }
  const ids = new Set<string>();
  const hashes = new Set<string>();
  for (const [i, key] of (value.auth?.apiKeys ?? []).entries()) {
    if (ids.has(key.id)) {
      throw new ConfigError(source, [{ pointer: `/auth/apiKeys/${i}/id`, keyword: "unique", message: `repeats the id "${key.id}"` }]);
    }
    // One key cannot be two callers: which one it means would depend on order.
    if (hashes.has(key.sha256.toLowerCase())) {
      throw new ConfigError(source, [{ pointer: `/auth/apiKeys/${i}/sha256`, keyword: "unique", message: "repeats the hash of another key" }]);
    }
    ids.add(key.id);
    hashes.add(key.sha256.toLowerCase());
  }
  for (const [i, entry] of (value.server?.trustedProxies ?? []).entries()) {
    try {
      createClientAddressResolver([entry]);
    } catch (err) {
      throw new ConfigError(source, [{ pointer: `/server/trustedProxies/${i}`, keyword: "format", message: (err as Error).message }]);
    }
  }
  return value;
}

/** Reads and validates a JSON config file; throws {@link ConfigError} naming the file. */
export async function loadConfigFile(path: string): Promise<ToolwireConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new ConfigError(path, [{ pointer: "", keyword: "file", message: `cannot be read: ${reason}` }]);
  }
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (err) {
    throw new ConfigError(path, [{ pointer: "", keyword: "json", message: `is not JSON: ${(err as Error).message}` }]);
  }
  return validateConfig(parsed, path);
}

/** Merges configs: later ones win; objects merge key by key, arrays and values are replaced. */
export function mergeConfigs(...configs: readonly ToolwireConfig[]): ToolwireConfig {
  const merge = (a: unknown, b: unknown, pointer: string): unknown => {
    // A secret reference is one value: { env } over { file } must not become { env, file }.
    if (isObject(a) && isObject(b) && !secretPointers.has(pointer)) {
      const out: Record<string, unknown> = { ...a };
      for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = merge(a[k], v, `${pointer}/${k}`);
      return out;
    }
    return b === undefined ? a : b;
  };
  return configs.reduce<ToolwireConfig>((acc, c) => merge(acc, c, "") as ToolwireConfig, {});
}

/** Settings holding a secret reference ({ env }, { file } or a string), replaced whole when merged. */
const secretPointers = new Set(["/auth/jwt/secret", "/redis/url"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
