import type { JsonObject } from "@bufbuild/protobuf";
import type { Tool } from "@modelcontextprotocol/server";
import type { CallResult, CallSink } from "../runtime/call-pipeline.js";
import type { CallerInfo } from "../runtime/caller.js";
import type { Principal } from "../security/principal.js";

/** Who is asking, as an MCP server hands it to its tool source. */
export interface McpIdentity {
  /** What the transport knew about the caller (headers carry the credentials). */
  readonly caller: CallerInfo;
  /** The principal, when the transport already authenticated the caller (saves a second authentication). */
  readonly principal?: Principal | undefined;
}

/** One page of tools for `tools/list`. */
export interface McpToolPage {
  /** Tools on this page, as MCP describes them. */
  readonly tools: readonly Tool[];
  /** Cursor of the next page; absent on the last one. */
  readonly nextCursor?: string | undefined;
}

/** One `tools/call` as an MCP server hands it to its tool source. */
export interface McpToolCall {
  /** Tool name. */
  readonly name: string;
  /** Exact version or semver range (from `_meta["toolwire/version"]`); absent for the default version. */
  readonly version?: string | undefined;
  /** Arguments object; absent means {}. */
  readonly arguments?: JsonObject | undefined;
  /** Who is calling. */
  readonly identity: McpIdentity;
  /** Id of the call in logs, events and the answer's `_meta` (the client's x-request-id when it sent a sane one). */
  readonly requestId: string;
  /** Aborted when the MCP client cancels the request or goes away. */
  readonly signal: AbortSignal;
  /** Milliseconds the client is willing to wait (from `_meta["toolwire/timeoutMs"]`), when it said. */
  readonly clientTimeoutMs?: number | undefined;
  /** Where progress and log messages go while the tool runs. */
  readonly sink: CallSink;
}

/**
 * Where an MCP server gets its tools from: the local call pipeline, or a remote Toolwire server
 * reached through the Connect client. Failures reject with a ConnectError, whatever the source, so
 * one mapping turns them into MCP answers.
 */
export interface McpToolSource {
  /** One page of the tools the caller may call. */
  listTools(identity: McpIdentity, cursor: string | undefined): Promise<McpToolPage>;
  /** Runs one call to its final result (is_error results included). */
  callTool(call: McpToolCall): Promise<CallResult>;
  /** Subscribes to changes of the tool list; returns the unsubscribe function. Absent when the source cannot tell. */
  onToolsChanged?(listener: () => void): () => void;
}
