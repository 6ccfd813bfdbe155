import type { Content } from "../../src/registry/content.js";
import type { ToolContext, ToolLogLevel } from "../../src/registry/tool-context.js";
import type { Principal } from "../../src/security/principal.js";

/** One `ctx.progress` call. */
export interface ProgressEvent {
  readonly done: number;
  readonly total: number | undefined;
  readonly message: string | undefined;
  /** performance.now() when it was reported. */
  readonly at: number;
}

/** One `ctx.log` call. */
export interface LogEntry {
  readonly level: ToolLogLevel;
  readonly message: string;
}

/** A {@link ToolContext} that records what the handler reports and can be aborted. */
export interface TestContext extends ToolContext {
  /** Aborts `signal` (unless an override replaced it). */
  readonly controller: AbortController;
  /** Every progress report, in order. */
  readonly progressEvents: ProgressEvent[];
  /** Every partial emission, each normalised to an array of blocks. */
  readonly partials: Content[][];
  /** Every log message, in order. */
  readonly logs: LogEntry[];
}

/** An authenticated admin with every grant, so no tool is out of reach in tests. */
export const testPrincipal: Principal = Object.freeze({
  id: "test-user",
  level: "admin",
  grants: Object.freeze(["category:*"]),
  anonymous: false,
});

/** Creates a recording context for calling handlers directly; fields in `overrides` win. */
export function createTestContext(overrides: Partial<ToolContext> = {}): TestContext {
  const controller = new AbortController();
  const progressEvents: ProgressEvent[] = [];
  const partials: Content[][] = [];
  const logs: LogEntry[] = [];
  return {
    signal: controller.signal,
    principal: testPrincipal,
    requestId: `test-${Math.random().toString(36).slice(2, 10)}`,
    deadline: Date.now() + 60_000,
    progress(done, total, message) {
      progressEvents.push({ done, total, message, at: performance.now() });
    },
    partial(content) {
      if (typeof content === "string") partials.push([{ type: "text", text: content }]);
      else if (Array.isArray(content)) partials.push([...(content as readonly Content[])]);
      else partials.push([content as Content]);
    },
    log(level, message) {
      logs.push({ level, message });
    },
    ...overrides,
    controller,
    progressEvents,
    partials,
    logs,
  };
}
