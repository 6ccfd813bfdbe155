import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ArgumentViolationsSchema,
  ErrorInfoSchema,
  RetryInfoSchema,
} from "../../gen/proto/toolwire/v1/errors_pb.js";
import { formatViolations, type SchemaViolation } from "../registry/json-schema.js";

/**
 * Factories for every error the pipeline answers. Each carries a message a person can act on
 * and protobuf details (toolwire.v1.*) a program can read with findDetails().
 */

/** A caller-supplied name or version, bounded so that an error never echoes a megabyte back. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 130 ? `${value.slice(0, 128)}…` : value);
}

function errorInfo(reason: string, metadata: Record<string, string>) {
  return { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, metadata }) };
}

/**
 * An unknown tool, or no registered version matching the one asked for. `hint` (such as
 * `; did you mean "echo"?`) is appended to the message of an unknown tool.
 */
export function toolNotFound(name: string, version: string | undefined, available: readonly string[], hint = ""): ConnectError {
  const message =
    available.length === 0
      ? `tool ${quoted(name)} not found${hint}`
      : `tool ${quoted(name)} has no version matching ${quoted(version ?? "")} (available: ${available.join(", ")})`;
  return new ConnectError(message, Code.NotFound, undefined, [
    errorInfo("TOOL_NOT_FOUND", { tool: name.slice(0, 128), ...(version ? { version: version.slice(0, 128) } : {}) }),
  ]);
}

/** A request that is malformed apart from the tool arguments (bad version range, page token). */
export function badRequest(message: string, reason: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument, undefined, [errorInfo(reason, {})]);
}

/** Arguments that break the tool's input schema; lists every violation. */
export function invalidArguments(tool: string, violations: readonly SchemaViolation[]): ConnectError {
  return new ConnectError(
    `invalid arguments for tool "${tool}": ${formatViolations(violations, "(arguments)")}`,
    Code.InvalidArgument,
    undefined,
    [{ desc: ArgumentViolationsSchema, value: create(ArgumentViolationsSchema, { violations: [...violations] }) }],
  );
}

/** A caller with no (or a bad) identity asking for a tool above public. */
export function unauthenticated(tool: string, level: string): ConnectError {
  return new ConnectError(
    `tool "${tool}" requires ${level === "authenticated" ? "an authenticated caller" : `the ${level} level`}; ` +
      "send credentials (Authorization: Bearer <key or token>)",
    Code.Unauthenticated,
    undefined,
    [errorInfo("AUTHENTICATION_REQUIRED", { tool, requiredLevel: level })],
  );
}

/**
 * Credentials were sent but are not valid. Never a silent downgrade to anonymous: the caller
 * meant to be someone, and should learn that it is not. `reason` never contains the secret.
 */
export function invalidCredentials(reason: string): ConnectError {
  return new ConnectError(`invalid credentials: ${reason}`, Code.Unauthenticated, undefined, [
    errorInfo("INVALID_CREDENTIALS", {}),
  ]);
}

/** A known caller whose level or grants are too low for the tool. */
export function permissionDenied(tool: string, message: string, requiredLevel: string): ConnectError {
  return new ConnectError(message, Code.PermissionDenied, undefined, [
    errorInfo("INSUFFICIENT_LEVEL", { tool, requiredLevel }),
  ]);
}

/** A rate or concurrency limit was hit; carries when to retry. */
export function limitExceeded(message: string, retryAfterMs: number, reason: string): ConnectError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  // Retry-After reaches plain HTTP clients (curl, Connect unary) as a response header.
  return new ConnectError(`${message}; retry after ${seconds}s`, Code.ResourceExhausted, { "retry-after": String(seconds) }, [
    { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(Math.max(0, retryAfterMs)) }) },
    errorInfo(reason, { retryAfterSeconds: String(seconds) }),
  ]);
}

/** Which limit ended a call that ran too long. */
export type DeadlineSource = "tool" | "client" | "stream";

/** The tool ran past its time limit, the client's deadline, or the longest a stream may stay open. */
export function deadlineExceeded(tool: string, ms: number, by: DeadlineSource): ConnectError {
  const message =
    by === "client"
      ? `tool "${tool}" did not finish within the client's deadline (${ms} ms)`
      : by === "stream"
        ? `stream of tool "${tool}" reached the server's maximum stream duration (${ms} ms)`
        : `tool "${tool}" timed out after ${ms} ms`;
  return new ConnectError(message, Code.DeadlineExceeded, undefined, [
    errorInfo(by === "stream" ? "STREAM_DURATION_LIMIT" : "TIMEOUT", { tool, timeoutMs: String(ms) }),
  ]);
}

/** The client cancelled the call or went away. */
export function canceled(tool: string): ConnectError {
  return new ConnectError(`call of tool "${tool}" was cancelled by the client`, Code.Canceled);
}

/** The server is shutting down and takes no new calls. */
export function shuttingDown(): ConnectError {
  return new ConnectError("server is shutting down; retry on another instance", Code.Unavailable, undefined, [
    errorInfo("SERVER_SHUTTING_DOWN", {}),
  ]);
}

/** The tool produced output that breaks its own output schema: a bug in the tool. */
export function invalidOutput(tool: string, violations: readonly SchemaViolation[]): ConnectError {
  return new ConnectError(
    `tool "${tool}" returned output that breaks its output schema: ${formatViolations(violations, "(output)")}`,
    Code.Internal,
    undefined,
    [errorInfo("INVALID_TOOL_OUTPUT", { tool })],
  );
}
