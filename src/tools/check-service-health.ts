import net from "node:net";
import {
  checkServiceHealthTool,
  type CheckServiceHealthOutput,
  type HealthCheckResult,
  type HttpEndpoint,
  type TcpEndpoint,
} from "../../gen/tools/check_service_health.js";
import { defineTool } from "../registry/define-tool.js";
import { ToolError } from "../registry/tool-result.js";
import { round2 } from "./round.js";

/**
 * The `check_service_health` tool: connects to TCP endpoints and GETs HTTP ones, all at once,
 * each within its own time limit. An unreachable endpoint is a result, not a failure.
 */
export const checkServiceHealth = defineTool(checkServiceHealthTool, async (input, ctx): Promise<CheckServiceHealthOutput> => {
  const timeoutMs = input.timeoutMs ?? 5000;
  for (const e of input.endpoints) {
    if (e.type === "http" && !/^https?:$/.test(safeProtocol(e.url))) {
      throw new ToolError(`endpoint ${JSON.stringify(e.url)} is not an http or https URL`);
    }
  }
  const results = await Promise.all(input.endpoints.map((e) => check(e, timeoutMs, ctx.signal)));
  // Results gathered after a cancel only say "aborted"; the call as a whole is what failed.
  ctx.signal.throwIfAborted();
  return { overall: results.every((r) => r.healthy) ? "healthy" : "degraded", results };
});

async function check(endpoint: TcpEndpoint | HttpEndpoint, timeoutMs: number, callSignal: AbortSignal): Promise<HealthCheckResult> {
  // Our own controller rather than AbortSignal.timeout() so the timer is cleared, not left to fire.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const signal = AbortSignal.any([callSignal, timeout.signal]);
  const target = endpoint.type === "tcp" ? hostPort(endpoint.host, endpoint.port) : endpoint.url;
  const base = { name: endpoint.name ?? target, type: endpoint.type, target };
  const started = performance.now();
  const elapsed = () => round2(performance.now() - started);
  try {
    if (endpoint.type === "tcp") {
      await connect(endpoint.host, endpoint.port, signal);
      return { ...base, healthy: true, latencyMs: elapsed() };
    }
    const response = await fetch(endpoint.url, {
      signal,
      // A redirect is the endpoint's answer; following it would check a different service.
      redirect: "manual",
      headers: { "user-agent": "toolwire-check-service-health" },
    });
    const latencyMs = elapsed();
    // Only the status matters; drop the body so the connection is released.
    await response.body?.cancel().catch(() => undefined);
    const status = response.status;
    const healthy = endpoint.expectStatus !== undefined ? status === endpoint.expectStatus : status >= 200 && status < 400;
    if (healthy) return { ...base, healthy, latencyMs, status };
    const expected = endpoint.expectStatus !== undefined ? `status ${endpoint.expectStatus}` : "a 2xx or 3xx status";
    return { ...base, healthy, latencyMs, status, error: `expected ${expected}, got ${status}` };
  } catch (err) {
    return { ...base, healthy: false, latencyMs: elapsed(), error: describeFailure(err, signal) };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once a TCP connection is established (and closes it at once), rejects on error or abort. */
function connect(host: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = net.connect({ host, port });
    const settle = (err?: unknown) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = () => settle(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => settle());
    socket.once("error", (err) => settle(err));
  });
}

function describeFailure(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof Error && reason.name !== "AbortError" ? reason.message : "check cancelled";
  }
  if (!(err instanceof Error)) return String(err);
  // fetch reports every network failure as "fetch failed"; the reason is in cause.
  const cause: unknown = err.cause;
  if (err.message === "fetch failed" && cause instanceof Error) return cause.message;
  return err.message;
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return "";
  }
}
