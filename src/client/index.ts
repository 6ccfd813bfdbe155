export { createSimpleClient, createProductionClient } from "./client-factory.js";
export { createToolwireClient, type ToolwireClient, type ToolArguments, type ListToolsFilter } from "./toolwire-client.js";
export type { ToolwireClientOptions } from "./client-options.js";
export { createClientTransport, type ClientTransport, type ClientTransportOptions, type ClientTlsOptions, type TransportProtocol } from "./client-transport.js";
export {
  createToolClient,
  type ToolClient,
  type ToolClientDescriptors,
  type ToolClientOptions,
  type ToolCallOptions,
  type ToolMapShape,
  type ToolMethod,
  type ToolVersionPolicy,
} from "./tool-client.js";
export {
  ToolCallError,
  contentFromProto,
  type ToolStream,
  type ToolStreamEvent,
  type ToolProgressEvent,
  type ToolPartialEvent,
  type ToolLogEvent,
  type ToolResultEvent,
} from "./tool-stream.js";
export { createAuthInterceptor, type AuthOptions, type TokenProvider } from "./auth-interceptor.js";
export { createLoggingInterceptor, type ClientLogger } from "./logging-interceptor.js";
export { createRetryInterceptor, isRetrySafe, idempotentCall, idempotencyKeyHeader, noRetry, type RetryOptions } from "./retry-interceptor.js";
export { createToolPolicyInterceptor, isToolCall, type ToolPolicyOptions } from "./tool-policy-interceptor.js";
export { createStatsInterceptor } from "./stats-interceptor.js";
export { createToolMetadataCache, securityLevelOf, type ToolMetadataCache, type ToolLookup } from "./tool-metadata.js";
export { backoffDelay, sleep, type BackoffOptions } from "./backoff.js";
export { isTransientFailure, isConnectionFailure } from "./transient-error.js";
export { createUsageStats, summarize, type UsageStats, type UsageStatsOptions, type ToolUsageStats, type LatencySummary } from "./usage-stats.js";
export { checkHealth, type HealthStatus } from "./health-check.js";
export {
  createEventWatcher,
  type EventWatcher,
  type ToolwireEventListener,
  type EventListenerOptions,
  type ConnectionStatus,
  type ConnectionStatusChange,
  type EventGap,
} from "./event-watcher.js";
export { createCircuitBreaker, type CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from "./circuit-breaker.js";
export { createClientManager, type ClientManager, type ClientManagerOptions, type ManagedServer, type ServerOutcome } from "./client-manager.js";
