import autocannon from "autocannon";
import { LatencyRecorder } from "./latency-recorder.js";
import type { LoadSpec, LoadSummary } from "./load-spec.js";

/** Runs one HTTP/1.1 autocannon load (POST, JSON body, no pipelining) and summarises it. */
export function runLoad(spec: LoadSpec): Promise<LoadSummary> {
  const latencies = new LatencyRecorder();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        pipelining: 1,
        timeout: 10,
        method: "POST",
        headers: { ...spec.headers },
        body: spec.body,
      },
      (error, result) => {
        if (error !== null) {
          reject(error);
          return;
        }
        const [p50Ms = Number.NaN, p99Ms = Number.NaN] = latencies.percentiles(50, 99);
        resolve({
          completed: result.requests.total,
          sent: result.requests.sent,
          ok: result["2xx"],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          resets: result.resets,
          statusCodes: Object.fromEntries(
            Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count]),
          ),
          elapsedSeconds: result.duration,
          p50Ms,
          p99Ms,
        });
      },
    );
    instance.on("response", (_client: unknown, _status: number, _bytes: number, latencyMs: number) =>
      latencies.record(latencyMs),
    );
  });
}
