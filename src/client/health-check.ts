import { Code, ConnectError, createClient, createContextValues, type Transport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { codeName } from "../runtime/code-name.js";
import { noRetry } from "./retry-interceptor.js";
import { isConnectionFailure } from "./transient-error.js";

/** What a health check found. */
export interface HealthStatus {
  /** Whether the server answered and is serving calls. */
  readonly healthy: boolean;
  /**
   * "serving"; "not_serving" when it answered but refuses calls (shutting down);
   * "unreachable" when no connection could be made; "error" for any other failure.
   */
  readonly status: "serving" | "not_serving" | "unreachable" | "error";
  /** How long the check took, in ms. */
  readonly latencyMs: number;
  /** When the check ran. */
  readonly checkedAt: Date;
  /** How the server was asked: its gRPC health service, or a listing when it has none. */
  readonly via?: "grpc.health.v1" | "list_tools";
  /** Tools the caller may call, when checked by a listing. */
  readonly tools?: number;
  /** The error code, when not serving ("unavailable", "deadline_exceeded", …). */
  readonly code?: string;
  /** What went wrong, for a person. */
  readonly error?: string;
}

/**
 * Checks a server over the client's own transport (so TLS, credentials and protocol are what
 * calls use): the standard gRPC health service (`grpc.health.v1.Health/Check` of the whole
 * server) when the server has it, else a one-item ListTools, which only a serving server answers.
 * One attempt, never rejects: a failure is a status.
 */
export async function checkHealth(transport: Transport, timeoutMs: number): Promise<HealthStatus> {
  const started = performance.now();
  const checkedAt = new Date();
  const latency = () => Math.round((performance.now() - started) * 10) / 10;
  // A health check reports the state now; it does not wait for a recovery.
  const callOptions = { timeoutMs, contextValues: createContextValues().set(noRetry, true) };
  try {
    try {
      const res = await createClient(Health, transport).check({ service: "" }, callOptions);
      const serving = res.status === HealthCheckResponse_ServingStatus.SERVING;
      return {
        healthy: serving,
        status: serving ? "serving" : "not_serving",
        latencyMs: latency(),
        checkedAt,
        via: "grpc.health.v1",
      };
    } catch (err) {
      // A server without the health service (no such route): fall back to a listing.
      const code = ConnectError.from(err).code;
      if (code !== Code.Unimplemented && code !== Code.NotFound) throw err;
    }
    const res = await createClient(ToolService, transport).listTools({ pageSize: 1 }, callOptions);
    return { healthy: true, status: "serving", latencyMs: latency(), checkedAt, via: "list_tools", tools: res.totalSize };
  } catch (err) {
    const ce = ConnectError.from(err);
    const status = isConnectionFailure(err) ? "unreachable" : ce.code === Code.Unavailable ? "not_serving" : "error";
    return { healthy: false, status, latencyMs: latency(), checkedAt, code: codeName(ce.code), error: ce.rawMessage };
  }
}
