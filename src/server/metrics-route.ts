import type { ServerMetrics } from "../metrics/server-metrics.js";
import { callerFromRequest } from "./caller-info.js";
import { writeJsonError } from "./health.js";
import type { MonitorAccess } from "./monitor-access.js";
import { writeConnectError } from "./plain-errors.js";
import type { PlainRequest, PlainRouteHandler, PlainServerResponse } from "./server-extension.js";

/** Creates `GET /metrics`: the server's Prometheus metrics in the text exposition format. */
export function createMetricsRoute(deps: { readonly metrics: ServerMetrics; readonly access: MonitorAccess }): PlainRouteHandler {
  const { metrics, access } = deps;
  return async (req: PlainRequest, res: PlainServerResponse) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      writeJsonError(res, 405, "unimplemented", `${req.method ?? "?"} /metrics is not supported; use GET`, { allow: "GET, HEAD" });
      return;
    }
    let body: string;
    try {
      await access.check("metrics", callerFromRequest(req, "http"));
      body = await metrics.render();
    } catch (err) {
      writeConnectError(res, err);
      return;
    }
    res.writeHead(200, {
      "content-type": metrics.contentType,
      "cache-control": "no-store",
      "content-length": Buffer.byteLength(body),
    });
    if (req.method === "HEAD") res.end();
    else res.end(body);
  };
}
