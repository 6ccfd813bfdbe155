import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const root = join(import.meta.dirname, "../..");

/** One tsc diagnostic. */
export interface Diagnostic {
  /** File as tsc printed it, relative to the project it checked. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** TS error code, e.g. "TS2578". */
  readonly code: string;
  /** The message. */
  readonly message: string;
}

/**
 * Runs the project's own tsc on a tsconfig and returns its diagnostics (none when it compiles).
 * Any output tsc prints that is not a diagnostic fails loudly, so a broken run never looks clean.
 */
export async function runTsc(tsconfig: string): Promise<Diagnostic[]> {
  const tsc = join(root, "node_modules/.bin/tsc");
  let stdout = "";
  try {
    ({ stdout } = await promisify(execFile)(tsc, ["--noEmit", "--pretty", "false", "-p", tsconfig], { cwd: root, timeout: 120_000 }));
  } catch (err) {
    const out = (err as { stdout?: string }).stdout;
    if (out === undefined || out === "") throw err;
    stdout = out;
  }
  const diagnostics: Diagnostic[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "" || line.startsWith(" ")) continue;
    const m = /^(.+)\((\d+),\d+\): error (TS\d+): (.*)$/.exec(line);
    if (m === null) throw new Error(`unexpected tsc output: ${line}`);
    diagnostics.push({ file: m[1] ?? "", line: Number(m[2]), code: m[3] ?? "", message: m[4] ?? "" });
  }
  return diagnostics;
}
