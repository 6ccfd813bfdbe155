import type { AnyToolDefinition } from "../registry/define-tool.js";
import { calculator } from "./calculator.js";
import { checkServiceHealth } from "./check-service-health.js";
import { echo } from "./echo.js";
import { createExecuteCommand, executeCommand, type ExecuteCommandOptions } from "./execute-command.js";
import { listProcesses } from "./list-processes.js";
import { monitorResources } from "./monitor-resources.js";
import { systemInfo } from "./system-info.js";

export { calculator, checkServiceHealth, createExecuteCommand, echo, executeCommand, listProcesses, monitorResources, systemInfo };
export type { ExecuteCommandOptions };

/** Every built-in tool, sorted by name. */
export const builtinTools: readonly AnyToolDefinition[] = Object.freeze(
  // Code-point order, as the registry lists tools.
  [calculator, checkServiceHealth, echo, executeCommand, listProcesses, monitorResources, systemInfo].sort((a, b) =>
    a.descriptor.manifest.name < b.descriptor.manifest.name ? -1 : 1,
  ),
);

/** Settings of the built-in tools that take any (`tools` in the config). */
export interface BuiltinToolOptions {
  /** Options of `execute_command`. */
  readonly executeCommand?: ExecuteCommandOptions;
}

/** Every built-in tool, sorted by name, configured by `options`. */
export function createBuiltinTools(options: BuiltinToolOptions = {}): readonly AnyToolDefinition[] {
  if (options.executeCommand === undefined) return builtinTools;
  const configured = createExecuteCommand(options.executeCommand);
  return Object.freeze(builtinTools.map((tool) => (tool === executeCommand ? configured : tool)));
}
