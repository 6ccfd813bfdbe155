export { createToolwireServer, type ToolwireServer, type ToolwireServerOptions } from "./create-server.js";
export { createToolService } from "./tool-service.js";
export type { HealthReport } from "./health.js";
export type {
  PlainRequest,
  PlainRouteHandler,
  PlainServerResponse,
  ServerAddress,
  ServerContext,
  ServerExtension,
  ServerExtensionFactory,
} from "./server-extension.js";
export { callerFromContext, callerFromRequest, requestIdFromContext } from "./caller-info.js";
export { createMonitoring, type MonitoringOptions } from "./monitoring.js";
export type { ClusterBackend, ClusterPeer, ClusterView, InstanceStats } from "./cluster-view.js";
export type { MonitorSurface } from "./monitor-access.js";
