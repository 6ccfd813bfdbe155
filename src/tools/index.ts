import type { AnyToolDefinition } from "../registry/define-tool.js";
import { calculator } from "./calculator.js";
import { checkServiceHealth } from "./check-service-health.js";
import { echo } from "./echo.js";
import { executeCommand } from "./execute-command.js";
import { listProcesses } from "./list-processes.js";
import { monitorResources } from "./monitor-resources.js";
import { systemInfo } from "./system-info.js";

export { calculator, checkServiceHealth, echo, executeCommand, listProcesses, monitorResources, systemInfo };

/** Every built-in tool, sorted by name. */
export const builtinTools: readonly AnyToolDefinition[] = Object.freeze(
  // Code-point order, as the registry lists tools.
  [calculator, checkServiceHealth, echo, executeCommand, listProcesses, monitorResources, systemInfo].sort((a, b) =>
    a.descriptor.manifest.name < b.descriptor.manifest.name ? -1 : 1,
  ),
);
