import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "./config-error.js";

/** A secret as the config file gives it: an environment variable, a file, or (discouraged) inline. */
export type SecretRef = { readonly env: string } | { readonly file: string } | string;

/** Where relative paths and environment variables are resolved. */
export interface ResolveContext {
  /** Directory of the config file, for relative paths. */
  readonly baseDir: string;
  /** The process environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Reads a secret; `pointer` names the setting in errors (never the value). */
export async function readSecret(ref: SecretRef, pointer: string, context: ResolveContext): Promise<string> {
  if (typeof ref === "string") return ref;
  if ("env" in ref) {
    const value = context.env[ref.env];
    if (value === undefined || value === "") {
      throw new ConfigError("environment", [{ pointer, keyword: "env", message: `environment variable ${ref.env} is not set` }]);
    }
    return value;
  }
  const value = (await readConfigFile(ref.file, pointer, context)).trim();
  // Like an unset variable: an empty Redis URL would quietly mean localhost:6379.
  if (value === "") {
    const path = isAbsolute(ref.file) ? ref.file : resolve(context.baseDir, ref.file);
    throw new ConfigError(path, [{ pointer, keyword: "file", message: "is empty" }]);
  }
  return value;
}

/** Reads a file named by the config (key, certificate, JWKS), relative to the config file. */
export async function readConfigFile(file: string, pointer: string, context: ResolveContext): Promise<string> {
  const path = isAbsolute(file) ? file : resolve(context.baseDir, file);
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new ConfigError(path, [{ pointer, keyword: "file", message: `cannot be read: ${reason}` }]);
  }
}
