import { Code, ConnectError } from "@connectrpc/connect";
import type { ToolwireClientOptions } from "../../src/client/index.js";
import { defineTool, type AnyToolDefinition, type ToolManifest } from "../../src/registry/index.js";
import type { Authenticator } from "../../src/runtime/index.js";
import { anonymousPrincipal, isSecurityLevelName } from "../../src/security/index.js";
import { manifestsFor } from "../helpers/registry-fixtures.js";

/**
 * Stands in for real authentication. `x-api-key: <id>|<level>` or `Authorization: Bearer
 * <id>|<level>` identifies a caller; anything malformed is unauthenticated.
 */
export const testAuthenticator: Authenticator = ({ headers }) => {
  const bearer = /^Bearer (.+)$/.exec(headers.get("authorization") ?? "")?.[1];
  const value = headers.get("x-api-key") ?? bearer;
  if (value === undefined || value === null) return anonymousPrincipal;
  const [id = "", level = ""] = value.split("|");
  if (!isSecurityLevelName(level)) throw new ConnectError("bad test credentials", Code.Unauthenticated);
  return { id, level, grants: [], anonymous: false };
};

/** Every protocol, HTTP version and encoding a client can be configured with. */
export const clientProtocolCases: readonly { readonly name: string; readonly options: ToolwireClientOptions }[] = [
  { name: "Connect JSON over HTTP/1.1", options: { transport: "connect", httpVersion: "1.1" } },
  { name: "Connect binary over HTTP/1.1", options: { transport: "connect", httpVersion: "1.1", useBinaryFormat: true } },
  { name: "Connect JSON over HTTP/2", options: { transport: "connect", httpVersion: "2" } },
  { name: "Connect binary over HTTP/2", options: { transport: "connect", httpVersion: "2", useBinaryFormat: true } },
  { name: "gRPC over HTTP/2", options: { transport: "grpc", httpVersion: "2" } },
  { name: "gRPC-Web over HTTP/1.1", options: { transport: "grpc-web", httpVersion: "1.1", useBinaryFormat: true } },
  { name: "gRPC-Web over HTTP/2", options: { transport: "grpc-web", httpVersion: "2" } },
];

const manifest = manifestsFor("client test tool", { category: "test", input: { type: "object", additionalProperties: false, properties: {} } });

/** What the client test tools saw: runs per tool and the signal of each run. */
export interface ClientProbe {
  /** How many times each tool's handler started. */
  readonly runs: Map<string, number>;
  /** Every handler context the tools saw, in order. */
  readonly calls: { readonly tool: string; readonly signal: AbortSignal; readonly deadline: number; readonly headers?: Headers }[];
  /** Resolves once `tool` has started `n` times in total. */
  started(tool: string, n: number): Promise<void>;
}

/**
 * Tools for client tests, each telling which server ran it: `whoami` (idempotent), `bump`
 * (not idempotent), `bump_idempotent`, `ticks` (streaming, idempotent), `park` (waits for its
 * signal), `ops` (restricted) and `members` (authenticated).
 */
export function createClientTestTools(
  serverName: string,
  options: { readonly hold?: boolean } = {},
): { tools: AnyToolDefinition[]; probe: ClientProbe } {
  // A server started to take over from a stopped one answers at once, whatever it is asked.
  const hold = options.hold ?? true;
  const runs = new Map<string, number>();
  const calls: ClientProbe["calls"][number][] = [];
  const waiters: { tool: string; n: number; resolve: () => void }[] = [];
  const ran = (tool: string, signal: AbortSignal, deadline: number) => {
    runs.set(tool, (runs.get(tool) ?? 0) + 1);
    calls.push({ tool, signal, deadline });
    for (const w of waiters.filter((w) => w.tool === tool && (runs.get(tool) ?? 0) >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const untilAborted = (signal: AbortSignal) =>
    new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));

  const tools: AnyToolDefinition[] = [
    defineTool(manifest("whoami", { annotations: { idempotentHint: true, readOnlyHint: true } }), (_input, ctx) => {
      ran("whoami", ctx.signal, ctx.deadline);
      return { server: serverName, caller: ctx.principal.id };
    }),
    defineTool(manifest("bump", { annotations: { idempotentHint: false }, input: holdInput }), async (input, ctx) => {
      ran("bump", ctx.signal, ctx.deadline);
      return holdUnlessAborted(ctx.signal, hold ? (input.holdMs as number) : 0, { server: serverName });
    }),
    defineTool(manifest("bump_idempotent", { annotations: { idempotentHint: true }, input: holdInput }), async (input, ctx) => {
      ran("bump_idempotent", ctx.signal, ctx.deadline);
      return holdUnlessAborted(ctx.signal, hold ? (input.holdMs as number) : 0, { server: serverName });
    }),
    defineTool(manifest("ticks", { streaming: true, annotations: { idempotentHint: true } }), async (_input, ctx) => {
      ran("ticks", ctx.signal, ctx.deadline);
      ctx.progress(1, 2, "tick");
      ctx.progress(2, 2, "tock");
      return { server: serverName };
    }),
    defineTool(manifest("park", { timeoutMs: 60_000 }), async (_input, ctx) => {
      ran("park", ctx.signal, ctx.deadline);
      return untilAborted(ctx.signal);
    }),
    defineTool(manifest("ops", { securityLevel: "restricted" }), (_input, ctx) => {
      ran("ops", ctx.signal, ctx.deadline);
      return { server: serverName };
    }),
    defineTool(manifest("members", { securityLevel: "authenticated" }), (_input, ctx) => {
      ran("members", ctx.signal, ctx.deadline);
      return { caller: ctx.principal.id, level: ctx.principal.level };
    }),
  ];
  return {
    tools,
    probe: {
      runs,
      calls,
      started(tool, n) {
        if ((runs.get(tool) ?? 0) >= n) return Promise.resolve();
        return new Promise((resolve) => waiters.push({ tool, n, resolve }));
      },
    },
  };
}

const holdInput: ToolManifest["input"] = {
  type: "object",
  additionalProperties: false,
  properties: { holdMs: { type: "integer", minimum: 0, default: 0 } },
};

/**
 * Answers `value` after `holdMs`, unless the signal aborts first: a test that wants to stop the
 * server while the call runs holds it long enough to do so.
 */
async function holdUnlessAborted<T>(signal: AbortSignal, holdMs: number, value: T): Promise<T> {
  await new Promise<void>((resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    const timer = setTimeout(resolve, holdMs);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
  return value;
}

/** A logger that keeps every entry, for tests that wait for a retry or a reconnect. */
export function createRecordingLogger(): {
  readonly entries: { readonly level: string; readonly message: string; readonly fields: Record<string, unknown> }[];
  readonly debug: (fields: object, message: string) => void;
  readonly info: (fields: object, message: string) => void;
  readonly warn: (fields: object, message: string) => void;
  readonly error: (fields: object, message: string) => void;
} {
  const entries: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: object, message: string) => {
    entries.push({ level, message, fields: fields as Record<string, unknown> });
  };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Awaits a promise that must reject, and returns its error as a ConnectError. */
export async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, but it succeeded");
}
