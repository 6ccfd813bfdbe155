export { createToolwireServer, type ToolwireServer, type ToolwireServerOptions } from "./create-server.js";
export { createToolService } from "./tool-service.js";
export type { HealthReport } from "./health.js";
