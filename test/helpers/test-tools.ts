import { defineTool, ToolError } from "../../src/registry/index.js";
import type { ToolDefinition } from "../../src/registry/index.js";
import { manifestsFor } from "./registry-fixtures.js";

const manifest = manifestsFor("test tool", { category: "test", input: { type: "object", additionalProperties: false, properties: {} } });

/** What the test tools saw, for assertions about signals and aborts. */
export interface ToolProbe {
  /** Signals of every call that started, in order. */
  readonly signals: AbortSignal[];
  /** Resolves when the nth call (1-based) has started. */
  started(n?: number): Promise<AbortSignal>;
}

/** Creates tools for exercising the pipeline end to end, and a probe that watches them. */
export function createTestTools(): { tools: ToolDefinition[]; probe: ToolProbe } {
  const signals: AbortSignal[] = [];
  const waiters: { n: number; resolve: (s: AbortSignal) => void }[] = [];
  const record = (signal: AbortSignal) => {
    signals.push(signal);
    for (const w of waiters.filter((w) => w.n <= signals.length)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(signals[w.n - 1] as AbortSignal);
    }
  };
  const waitAbort = (signal: AbortSignal) =>
    new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));

  const tools: ToolDefinition[] = [
    defineTool(
      manifest("slow", {
        timeoutMs: 200,
        input: { type: "object", additionalProperties: false, properties: { ms: { type: "integer", default: 10_000 } } },
      }),
      async (input, ctx) => {
        record(ctx.signal);
        const ms = input.ms as number;
        await Promise.race([new Promise((r) => setTimeout(r, ms)), waitAbort(ctx.signal)]);
        return { sleptMs: ms };
      },
    ),
    defineTool(manifest("hang", { timeoutMs: 60_000 }), async (_input, ctx) => {
      record(ctx.signal);
      return waitAbort(ctx.signal);
    }),
    defineTool(manifest("boom"), () => {
      throw new Error("database password=hunter2 leaked?\n    at secretFunction (/srv/app/secret.ts:1:1)");
    }),
    defineTool(manifest("refuse"), () => {
      throw new ToolError("the tool says no");
    }),
    defineTool(manifest("members", { securityLevel: "authenticated" }), () => ({ ok: true })),
    defineTool(manifest("ops", { securityLevel: "restricted", category: "ops" }), () => ({ ok: true })),
    defineTool(manifest("root", { securityLevel: "admin" }), () => ({ ok: true })),
    defineTool(manifest("limited", { rateLimit: { maxCalls: 3, windowSeconds: 60 } }), () => ({ ok: true })),
    defineTool(
      manifest("steps", {
        streaming: true,
        input: { type: "object", additionalProperties: false, properties: { steps: { type: "integer", default: 3 } } },
      }),
      async (input, ctx) => {
        record(ctx.signal);
        const steps = input.steps as number;
        for (let i = 1; i <= steps; i++) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          ctx.log("info", `step ${i}`);
          ctx.progress(i, steps, `step ${i} of ${steps}`);
          ctx.partial(`part ${i}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        return { steps };
      },
    ),
  ];
  return {
    tools,
    probe: {
      signals,
      started(n = signals.length + 1) {
        if (signals.length >= n) return Promise.resolve(signals[n - 1] as AbortSignal);
        return new Promise((resolve) => waiters.push({ n, resolve }));
      },
    },
  };
}

/** A tool that logs once at "info" and once at "error", for tests of log levels. */
export const chatty: ToolDefinition = defineTool(manifest("chatty", { streaming: true }), (_input, ctx) => {
  ctx.log("info", "routine detail");
  ctx.log("error", "something broke");
  return { ok: true };
});
