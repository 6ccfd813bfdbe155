import type { JsonObject } from "@bufbuild/protobuf";
import type { SecurityLevelName } from "../security/security-level.js";

/** Every kind of event a server publishes, as named in logs, SSE and filters. */
export const eventTypeNames = [
  "tool_called",
  "tool_succeeded",
  "tool_failed",
  "tool_denied",
  "rate_limited",
  "tool_registered",
  "tool_unregistered",
  "server_status",
] as const;

/** What happened: one of {@link eventTypeNames}. */
export type EventTypeName = (typeof eventTypeNames)[number];

/** A server's status as `server_status` events report it. */
export type ServerStatusName = "serving" | "draining" | "degraded";

/** Whether `value` names an event type. */
export function isEventTypeName(value: string): value is EventTypeName {
  return (eventTypeNames as readonly string[]).includes(value);
}

/**
 * Who may read a tool's events: what authorization knows of the tool the event concerns,
 * taken when the event was made, so that a reader sees the events of the tools it may list
 * (restricted ones need a grant, admin sees all) even after the tool is gone or on an instance
 * that does not serve it.
 */
export interface EventVisibility {
  /** The tool's security level. */
  readonly securityLevel: SecurityLevelName;
  /** The tool's category, for `category:<name>` grants. */
  readonly category: string | undefined;
}

/** An event before the store gives it a sequence number and a time. */
export interface EventDraft {
  /** What happened. */
  readonly type: EventTypeName;
  /** Tool name, for tool events ("" otherwise). */
  readonly toolName: string;
  /** Tool version once resolved ("" otherwise). */
  readonly toolVersion: string;
  /** Caller id, never a credential ("" when unknown). */
  readonly callerId: string;
  /** Request id of the call ("" for non-call events). */
  readonly requestId: string;
  /** "ok", "tool_error" or a snake_case Connect code, for ended calls ("" otherwise). */
  readonly code: string;
  /** A short account for a person: the denial reason, the failure message. */
  readonly message: string;
  /** How long the call took, for ended calls. */
  readonly durationMs: number | undefined;
  /** The new status, for server_status events. */
  readonly status: ServerStatusName | undefined;
  /** The call's arguments, only when the server is configured to include them. */
  readonly arguments: JsonObject | undefined;
  /**
   * Who may read a tool event (never sent to watchers); absent on events that concern no tool.
   * A tool event without it is read by admins only.
   */
  readonly visibility?: EventVisibility | undefined;
}

/** One thing that happened on a server, as stored and delivered. */
export interface ToolwireEvent extends EventDraft {
  /** Strictly increasing per server (per cluster with a shared store); resume from it. */
  readonly sequence: number;
  /** When it happened, epoch milliseconds. */
  readonly time: number;
  /** The server it happened on. */
  readonly serverId: string;
}

/**
 * An event from its draft and the stamps a store gives it. Spelled out rather than spread:
 * spreading and then adding keys makes V8 build a slow dictionary-mode object, which cost
 * microseconds per call. Absent optional fields may come back from JSON as null; they are undefined here.
 */
export function stampEvent(draft: EventDraft, sequence: number, time: number, serverId: string): ToolwireEvent {
  return {
    sequence,
    time,
    serverId,
    type: draft.type,
    toolName: draft.toolName,
    toolVersion: draft.toolVersion,
    callerId: draft.callerId,
    requestId: draft.requestId,
    code: draft.code,
    message: draft.message,
    durationMs: draft.durationMs ?? undefined,
    status: draft.status ?? undefined,
    arguments: draft.arguments ?? undefined,
    visibility: draft.visibility ?? undefined,
  };
}
