/** The part of a node:http or node:http2 response the plain-HTTP routes use. */
export interface PlainResponse {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(): unknown;
  end(body: string): unknown;
}

/** What `GET /health` reports. */
export interface HealthReport {
  /**
   * "serving"; "degraded" while a shared dependency (Redis) is away but calls are still served;
   * "draining" once shutdown has begun.
   */
  readonly status: "serving" | "degraded" | "draining";
  /** Why the status is not "serving" (absent when it is). */
  readonly reason?: string;
  /** Toolwire version. */
  readonly version: string;
  /** Seconds since the server started. */
  readonly uptimeSeconds: number;
  /** Number of registered tools. */
  readonly tools: number;
  /** Calls running now. */
  readonly inFlight: number;
}

/**
 * Writes a health report as JSON: 200 while serving or degraded (calls are still answered), 503
 * while draining (so balancers move on).
 */
export function writeHealth(res: PlainResponse, report: HealthReport, head: boolean): void {
  const body = JSON.stringify(report);
  res.writeHead(report.status === "draining" ? 503 : 200, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(body),
  });
  if (head) res.end();
  else res.end(body);
}

/** Writes a JSON error shaped like a Connect error body, for plain-HTTP routes. */
export function writeJsonError(
  res: PlainResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ code, message });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}
