import type { Principal } from "../security/principal.js";
import type { Content } from "./content.js";

/** Severity of a tool log message (the MCP / syslog names Toolwire carries). */
export type ToolLogLevel = "debug" | "info" | "notice" | "warning" | "error";

/**
 * What a handler gets besides its input: cancellation, identity, and channels for progress,
 * partial content and logs. Streaming transports forward those channels to the caller;
 * unary calls drop progress and logs and collect partial content into the result.
 */
export interface ToolContext {
  /** Aborted when the call times out, the client cancels or goes away, or the server stops. */
  readonly signal: AbortSignal;
  /** The authenticated caller. */
  readonly principal: Principal;
  /** Id of this call, as in logs, events and the result: the client's x-request-id when it sent a valid one. */
  readonly requestId: string;
  /** Epoch milliseconds by which the call must finish. */
  readonly deadline: number;
  /** Reports progress; `done` should grow over the call. */
  progress(done: number, total?: number, message?: string): void;
  /** Emits content before the final result. */
  partial(content: Content | readonly Content[] | string): void;
  /** Sends a log message to the caller. */
  log(level: ToolLogLevel, message: string): void;
}
