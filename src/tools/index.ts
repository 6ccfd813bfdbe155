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

/** Which built-in tools to serve and their settings (`tools` in the config). */
export interface BuiltinToolOptions {
  /** true (default) for every built-in tool, false for none, or the names of those to serve. */
  readonly builtins?: boolean | readonly string[] | undefined;
  /** Options of `execute_command`. */
  readonly executeCommand?: ExecuteCommandOptions | undefined;
}

/** The built-in tools `options` select, sorted by name and configured. */
export function createBuiltinTools(options: BuiltinToolOptions = {}): readonly AnyToolDefinition[] {
  const { builtins = true } = options;
  const selected = builtins === true ? builtinTools : builtins === false ? [] : builtinTools.filter((tool) => builtins.includes(tool.descriptor.manifest.name));
  if (options.executeCommand === undefined) return selected;
  const configured = createExecuteCommand(options.executeCommand);
  return Object.freeze(selected.map((tool) => (tool === executeCommand ? configured : tool)));
}
