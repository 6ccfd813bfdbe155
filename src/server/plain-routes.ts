import type { DescService } from "@bufbuild/protobuf";
import { writeHealth, type HealthReport } from "./health.js";
import type { EdgeRoute } from "./edge-handler.js";
import { pathOf } from "./edge-guards.js";
import { writeRefusal } from "./refusal.js";
import type { PlainRouteHandler } from "./server-extension.js";

/** Options of {@link createPlainRoutes}. */
export interface PlainRoutesOptions {
  /** Routes by exact path (/metrics, /events, /mcp). */
  readonly routes: ReadonlyMap<string, PlainRouteHandler>;
  /** What GET /health reports now. */
  readonly health: () => HealthReport;
  /** The Connect services served, named in the 404 text. */
  readonly services: readonly DescService[];
}

/**
 * Creates the route of every request that is no RPC: /health, the extensions' routes, and a
 * Connect-shaped 404 naming where things are for anything else.
 */
export function createPlainRoutes(options: PlainRoutesOptions): EdgeRoute {
  const rpcRoots = options.services.map((s) => `/${s.typeName}/`).join(", ");
  const plain = ["/health", ...options.routes.keys()].join(", ");
  return (req, res) => {
    const path = pathOf(req.url);
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        writeRefusal(req, res, { status: 405, code: "unimplemented", message: `${req.method} /health is not supported; use GET`, headers: { allow: "GET, HEAD" } });
        return;
      }
      writeHealth(res, options.health(), req.method === "HEAD");
      return;
    }
    const route = options.routes.get(path);
    if (route !== undefined) return route(req, res);
    // An RPC-shaped path of a service or method we lack is "unimplemented", as Connect and gRPC
    // clients expect; anything else is a plain 404.
    const code = /^\/[\w.]+\.[\w]+\/\w+$/.test(path) ? "unimplemented" : "not_found";
    writeRefusal(req, res, { status: 404, code, message: `no route for ${req.method} ${path.slice(0, 200)}; RPCs live under ${rpcRoots} and plain HTTP at ${plain}` });
  };
}
