import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import { defineTool, type ToolDefinition, type ToolHandler } from "../../src/registry/define-tool.js";
import type { ToolManifest } from "../../src/registry/tool-descriptor.js";
import type { CallerInfo } from "../../src/runtime/caller.js";

/** A minimal valid manifest; `overrides` replace its fields. */
export function manifest(overrides: Partial<ToolManifest> = {}): ToolManifest {
  return {
    name: "sample",
    version: "1.0.0",
    description: "A sample tool for tests.",
    input: { type: "object" },
    ...overrides,
  };
}

/**
 * A manifest maker for one family of test tools: each manifest is named, described as
 * `<label> <name>` and takes `defaults` (a fresh copy of their input schema each time), then `extra`.
 */
export function manifestsFor(label: string, defaults: Partial<ToolManifest> = {}): (name: string, extra?: Partial<ToolManifest>) => ToolManifest {
  return (name, extra = {}) =>
    manifest({ description: `${label} ${name}`, ...defaults, ...(defaults.input === undefined ? {} : { input: { ...defaults.input } }), name, ...extra });
}

/** A tool definition from a minimal manifest and a handler (default: returns {}). */
export function tool(overrides: Partial<ToolManifest> = {}, handler: ToolHandler = () => ({})): ToolDefinition {
  return defineTool(manifest(overrides), handler);
}

/** Caller information of an in-process test caller. */
export function testCaller(peer?: string): CallerInfo {
  return { headers: new Headers(), protocol: "test", ...(peer === undefined ? {} : { peer }) };
}

/** Awaits a promise that must reject with a ConnectError and returns that error. */
export async function connectRejection(promise: Promise<unknown>): Promise<ConnectError> {
  let outcome: unknown;
  try {
    await promise;
  } catch (err) {
    outcome = err;
  }
  if (outcome === undefined) throw new Error("expected the promise to reject, but it resolved");
  if (!(outcome instanceof ConnectError)) {
    throw new Error(`expected a ConnectError, got ${String(outcome)}`, { cause: outcome });
  }
  return outcome;
}

/** Calls `fn` and returns the ConnectError it throws synchronously. */
export function connectThrow(fn: () => unknown): ConnectError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw new Error(`expected a ConnectError, got ${String(err)}`, { cause: err });
  }
  throw new Error("expected a ConnectError, but nothing was thrown");
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates a fresh temporary directory under the OS temp dir; remove it with {@link removeTempDir}. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `toolwire-${prefix}-`));
}

/** Removes a directory made by {@link makeTempDir}. */
export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}
