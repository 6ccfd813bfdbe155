export {
  createCallPipeline,
  nextRequestId,
  type CallPipeline,
  type CallPipelineOptions,
  type CallRequest,
  type CallResult,
  type CallSink,
  type CallObserver,
  type RequestLimits,
  type CallOutcome,
  type ObservedCall,
} from "./call-pipeline.js";
export { codeName } from "./code-name.js";
export type { CallerInfo, Authenticator } from "./caller.js";
export * as errors from "./errors.js";
export { listTools, mayList, visibleTools, type ToolListFilter, type ToolListPage } from "./tool-listing.js";
