// The composition root: one config object in, a running Toolwire app out, for the CLI and library users alike.
export { createToolwireApp, type ToolwireApp, type ToolwireAppConfig, type ToolwireAppExtras, type DeepReadonly } from "./create-app.js";
