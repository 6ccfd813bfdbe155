import type { EventBus } from "../events/event-bus.js";
import type { EventTypeName } from "../events/event.js";
import { outcomeKind, type OutcomeKind } from "../metrics/call-outcome.js";
import type { ServerMetrics } from "../metrics/server-metrics.js";
import type { UsageStats } from "../metrics/usage-stats.js";
import type { ToolRegistry } from "../registry/tool-registry.js";
import type { CallObserver, ObservedCall } from "../runtime/call-pipeline.js";
import { refusalReason } from "../runtime/refusal-reason.js";
import { capEventArguments } from "../events/event-size.js";
import type { EventVisibility } from "../events/event.js";
import { nameVisibility, toolVisibility } from "./event-visibility.js";

/** What {@link createMonitorObserver} records into. */
export interface MonitorObserverDeps {
  /** Resolves whether a requested name is a registered tool (labels and stats only use known names). */
  readonly registry: ToolRegistry;
  /** Receives tool_called and the event each call ends with. */
  readonly bus: EventBus;
  /** Per-tool usage. */
  readonly stats: UsageStats;
  /** Prometheus metrics. */
  readonly metrics: ServerMetrics;
  /** Put the call's arguments into tool_called events (default false: they may hold secrets). */
  readonly includeArguments: boolean;
  /**
   * Longest JSON of arguments an event carries; longer ones are replaced by a
   * `{"$truncated": {bytes, maxBytes}}` marker (default 64 KiB).
   */
  readonly maxArgumentBytes?: number | undefined;
  /** Also told about every ended call (the per-call log line). */
  readonly next?: CallObserver | undefined;
}

const endEvent: Record<OutcomeKind, EventTypeName> = {
  success: "tool_succeeded",
  failure: "tool_failed",
  denied: "tool_denied",
  rate_limited: "rate_limited",
};

/** Label and stats key for names nobody registered: callers must not be able to grow either. */
const unknownTool = "_unknown";

function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Who may read the events of `call`: those who may list its tool (see event-visibility.ts). */
function callVisibility(registry: ToolRegistry, call: ObservedCall): EventVisibility {
  return call.tool === undefined ? nameVisibility(registry, call.toolName) : toolVisibility(call.tool);
}

/**
 * Creates the one observer behind events, usage stats, metrics and the call log, so the
 * pipeline pays for one observer call per call phase whatever is watching.
 */
export function createMonitorObserver(deps: MonitorObserverDeps): CallObserver {
  const { registry, bus, stats, metrics, includeArguments, next } = deps;
  const maxArgumentBytes = deps.maxArgumentBytes ?? 64 * 1024;
  return {
    callStarted(call) {
      bus.publish({
        type: "tool_called",
        toolName: call.toolName,
        toolVersion: call.toolVersion ?? "",
        callerId: call.principal?.id ?? "",
        requestId: call.requestId,
        code: "",
        message: "",
        durationMs: undefined,
        status: undefined,
        arguments: includeArguments && call.arguments !== undefined ? capEventArguments(call.arguments, maxArgumentBytes) : undefined,
        visibility: callVisibility(registry, call),
      });
      next?.callStarted?.(call);
    },
    callEnded(call, outcome) {
      const kind = outcomeKind(outcome);
      const known = call.tool !== undefined || registry.versions(call.toolName).length > 0;
      stats.record(known ? call.toolName : undefined, outcome);
      metrics.record({
        tool: known ? call.toolName : unknownTool,
        version: call.toolVersion ?? "",
        outcome: kind,
        code: outcome.code,
        durationMs: outcome.durationMs,
      });
      bus.publish({
        type: endEvent[kind],
        toolName: bounded(call.toolName, 128),
        toolVersion: call.toolVersion ?? "",
        callerId: call.principal?.id ?? "",
        requestId: call.requestId,
        code: outcome.code,
        // An is_error result's text is the tool's answer to one caller, not for every watcher.
        message: outcome.error === undefined ? (outcome.code === "tool_error" ? "the tool answered an error result" : "") : bounded(refusalReason(call, outcome.error), 300),
        durationMs: outcome.durationMs,
        status: undefined,
        arguments: undefined,
        visibility: callVisibility(registry, call),
      });
      next?.callEnded?.(call, outcome);
    },
  };
}
