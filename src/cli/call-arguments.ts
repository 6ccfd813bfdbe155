import { readFile } from "node:fs/promises";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { usageError } from "./exit-codes.js";

/** How `toolwire call` reads tool arguments; shown in its --help and the README. */
export const callArgumentsHelp = [
  "Tool arguments:",
  "  key=value    value as JSON when it is valid JSON (a=2, on=true, tags='[\"x\"]'), else a string",
  "               (a JSON string forces a string: message='\"123\"')",
  "  key:=json    value must be valid JSON (an error otherwise)",
  "  --args JSON  the whole arguments object; '-' reads it from stdin, @file from a file;",
  "               key=value pairs are applied over it",
].join("\n");

/** Where `--args -` and `--args @file` read from; injectable so a caller can use another stream. */
export interface ArgumentSources {
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
}

/** Reads all of the process's standard input. */
export async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Builds a call's arguments object from `--args` (JSON, `-` for stdin, `@file`) and `key=value`
 * / `key:=json` pairs, later ones winning. Throws a usage error naming the bad piece.
 */
export async function parseCallArguments(
  args: string | undefined,
  pairs: readonly string[],
  sources: ArgumentSources = { readStdin: readProcessStdin },
): Promise<JsonObject> {
  const result: JsonObject = args === undefined ? {} : await argumentsObject(args, sources);
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq === -1) throw usageError(`"${pair}" is not key=value (use --args '{…}' to pass a JSON object)`);
    const forceJson = eq > 0 && pair[eq - 1] === ":";
    const key = pair.slice(0, forceJson ? eq - 1 : eq);
    const raw = pair.slice(eq + 1);
    if (key === "") throw usageError(`"${pair}" has no key before the "="`);
    if (forceJson) {
      const parsed = parseJson(raw);
      if (parsed === undefined) throw usageError(`${key}:= needs a JSON value, got ${JSON.stringify(raw)} (for a string use ${key}=${raw})`);
      result[key] = parsed.value;
    } else {
      result[key] = parseJson(raw)?.value ?? raw;
    }
  }
  return result;
}

async function argumentsObject(args: string, sources: ArgumentSources): Promise<JsonObject> {
  let text: string;
  let from: string;
  if (args === "-") {
    text = await sources.readStdin();
    from = "stdin";
  } else if (args.startsWith("@")) {
    const path = args.slice(1);
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw usageError(`--args ${args}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    from = path;
  } else {
    text = args;
    from = "--args";
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw usageError(`${from} is not JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw usageError(`${from} must be a JSON object like '{"message": "hi"}', not ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`);
  }
  return value as JsonObject;
}

function parseJson(text: string): { value: JsonValue } | undefined {
  try {
    const value = JSON.parse(text) as JsonValue;
    // 1e999 parses to Infinity, which JSON (and so the call) cannot carry: keep the text.
    return typeof value === "number" && !Number.isFinite(value) ? undefined : { value };
  } catch {
    return undefined;
  }
}
