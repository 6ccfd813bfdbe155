import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  MonitorService,
  type GetServerInfoResponse,
  type GetStatsRequestSchema,
  type GetStatsResponse,
} from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { Tool } from "../../gen/proto/toolwire/v1/tool_pb.js";
import { ToolService, type CallToolResponse, type ListToolsRequestSchema } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { toolDescriptors, type ToolMap } from "../../gen/tools/index.js";
import { createAuthInterceptor } from "./auth-interceptor.js";
import type { ToolwireClientOptions } from "./client-options.js";
import { createClientTransport } from "./client-transport.js";
import { createEventWatcher, type EventListenerOptions, type EventWatcher, type ToolwireEventListener } from "./event-watcher.js";
import { checkHealth, type HealthStatus } from "./health-check.js";
import { createLoggingInterceptor } from "./logging-interceptor.js";
import { createRetryInterceptor } from "./retry-interceptor.js";
import { createStatsInterceptor } from "./stats-interceptor.js";
import { createToolClient, toCallOptions, type ToolCallOptions, type ToolClient, type ToolClientDescriptors, type ToolMapShape } from "./tool-client.js";
import { createToolMetadataCache } from "./tool-metadata.js";
import { createToolPolicyInterceptor } from "./tool-policy-interceptor.js";
import { toToolStream, type ToolStream } from "./tool-stream.js";
import { createUsageStats, type ToolUsageStats } from "./usage-stats.js";

/**
 * Arguments of a tool by name: typed by a generated ToolMap (Toolwire's own tools by default) for
 * known tools, any JSON object otherwise.
 */
export type ToolArguments<N extends string, M extends ToolMapShape<M> = ToolMap> = N extends keyof M ? M[N]["input"] : JsonObject;

/** Filters of {@link ToolwireClient.listTools}; every one is optional. */
export type ListToolsFilter = Omit<MessageInitShape<typeof ListToolsRequestSchema>, "pageSize" | "pageToken" | "$typeName">;

/**
 * A client of one Toolwire server, typed by a generated ToolMap: Toolwire's own tools by default,
 * a project's own with the `createClient` that `toolwire generate` writes into its gen/.
 */
export interface ToolwireClient<M extends ToolMapShape<M> = ToolMap> {
  /** The server's base URL. */
  readonly url: string;
  /**
   * The configured connect-node transport (credentials, retries, policy and stats included), for
   * other Connect clients of the same server: `createClient(MonitorService, client.connectTransport)`.
   */
  readonly connectTransport: Transport;
  /** One typed method per tool of the ToolMap (see `toolwire generate`). */
  readonly tools: ToolClient<M>;
  /** Whether connect() succeeded and disconnect() has not been called since. */
  readonly connected: boolean;
  /**
   * Checks that the server answers (ListTools, retried like any listing), remembers what it says
   * about its tools and starts the event listeners. Rejects with the ConnectError when it cannot.
   */
  connect(): Promise<void>;
  /** Stops the event listeners and closes every connection; the client may connect again later. */
  disconnect(): Promise<void>;
  /** Every tool the caller may call (all pages), at its default version, sorted by name. */
  listTools(filter?: ListToolsFilter, options?: CallOptions): Promise<Tool[]>;
  /** One tool, at its default version or the version (or semver range) asked for. */
  getTool(name: string, version?: string, options?: CallOptions): Promise<Tool>;
  /**
   * Runs a tool and answers its full result; a tool failure is a result with `isError: true`,
   * a refusal is a ConnectError. Arguments of known tools are typed by their manifests.
   */
  callTool<N extends string>(name: N, args?: ToolArguments<N, M>, options?: ToolCallOptions): Promise<CallToolResponse>;
  /**
   * Runs a tool and streams its progress, partial content and logs, then the result (whose
   * `result.isError` says whether the tool failed).
   */
  callToolStream<N extends string>(name: N, args?: ToolArguments<N, M>, options?: ToolCallOptions): ToolStream;
  /** Whether the server is serving now (one attempt, never rejects). */
  healthCheck(options?: { readonly timeoutMs?: number }): Promise<HealthStatus>;
  /** Who the server is: id, version, status, protocols, peers (MonitorService.GetServerInfo). */
  getServerInfo(options?: CallOptions): Promise<GetServerInfoResponse>;
  /** The server's usage statistics (MonitorService.GetStats). */
  getStats(request?: MessageInitShape<typeof GetStatsRequestSchema>, options?: CallOptions): Promise<GetStatsResponse>;
  /** What this client saw of one tool: calls, errors, latency percentiles; undefined if never called. */
  getToolUsageStats(name: string): ToolUsageStats | undefined;
  /** This client's statistics of every tool it called, sorted by name. */
  getUsageStats(): ToolUsageStats[];
  /**
   * Subscribes to the server's events (MonitorService.WatchEvents) from connect() on (at once if
   * already connected), reconnecting and resuming by itself. Returns a function that unsubscribes.
   */
  addEventListener(listener: ToolwireEventListener, options?: EventListenerOptions): () => Promise<void>;
}

/**
 * Creates a client of the Toolwire server at `url` with connect-node transports and interceptors:
 * logging, usage statistics, the tool policy (allowed security levels, idempotency), retries and
 * credentials, in that order from the outside in. `descriptors` (a generated `toolDescriptors`)
 * types the `tools` methods; without them they are Toolwire's own tools.
 */
export function createToolwireClient<M extends ToolMapShape<M> = ToolMap>(
  url: string,
  options: ToolwireClientOptions = {},
  descriptors?: ToolClientDescriptors<M>,
): ToolwireClient<M> {
  const retries = options.retry !== undefined && options.retry !== false && (options.retry.maxAttempts ?? 4) > 1;
  const usage = createUsageStats({ window: options.usageStatsWindow });
  // The policy looks tools up over the same transport; the client exists by the time it asks.
  let toolService: ReturnType<typeof createClient<typeof ToolService>> | undefined;
  const metadata = createToolMetadataCache(async (name, version) => {
    const res = await (toolService as NonNullable<typeof toolService>).getTool(
      { name, version },
      { timeoutMs: options.timeoutMs ?? 10_000 },
    );
    if (res.tool === undefined) throw new Error(`the server described no tool for "${name}"`);
    return res.tool;
  }, options.toolMetadataTtlMs);

  const interceptors: Interceptor[] = [];
  if (options.logger !== undefined) interceptors.push(createLoggingInterceptor(options.logger));
  interceptors.push(createStatsInterceptor(usage));
  interceptors.push(createToolPolicyInterceptor({ metadata, allowedSecurityLevels: options.allowedSecurityLevels, retries }));
  if (retries && typeof options.retry === "object") interceptors.push(createRetryInterceptor(options.retry, options.logger));
  if (options.apiKey !== undefined || options.token !== undefined) {
    interceptors.push(createAuthInterceptor({ apiKey: options.apiKey, token: options.token }));
  }
  interceptors.push(...(options.interceptors ?? []));

  const { transport, close } = createClientTransport({
    baseUrl: url,
    protocol: options.transport,
    httpVersion: options.httpVersion,
    useBinaryFormat: options.useBinaryFormat,
    interceptors,
    tls: options.tls,
    pingIntervalMs: options.pingIntervalMs,
  });
  toolService = createClient(ToolService, transport);
  const tools = toolService;
  const monitor = createClient(MonitorService, transport);
  // Without descriptors M is its default, ToolMap, whose descriptors these are.
  const typedTools = createToolClient<M>(transport, descriptors ?? (toolDescriptors as ToolClientDescriptors<M>), {
    timeoutMs: options.timeoutMs,
    toolVersions: options.toolVersions,
  });
  const watchers = new Set<EventWatcher>();
  let connected = false;

  const unary = (callOptions: CallOptions = {}): CallOptions =>
    callOptions.timeoutMs === undefined && options.timeoutMs !== undefined ? { ...callOptions, timeoutMs: options.timeoutMs } : callOptions;

  async function listTools(filter: ListToolsFilter = {}, callOptions?: CallOptions): Promise<Tool[]> {
    const all: Tool[] = [];
    let pageToken = "";
    do {
      const page = await tools.listTools({ ...filter, pageSize: 500, pageToken }, unary(callOptions));
      all.push(...page.tools);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return all;
  }

  return {
    url,
    connectTransport: transport,
    tools: typedTools,
    get connected() {
      return connected;
    },
    async connect() {
      if (connected) return;
      const listed = await listTools();
      metadata.clear();
      metadata.prime(listed);
      connected = true;
      for (const watcher of watchers) watcher.start();
    },
    async disconnect() {
      connected = false;
      await Promise.all([...watchers].map((w) => w.stop()));
      close();
    },
    listTools,
    async getTool(name, version = "", callOptions) {
      const res = await tools.getTool({ name, version }, unary(callOptions));
      if (res.tool === undefined) throw new Error(`the server described no tool for "${name}"`);
      return res.tool;
    },
    callTool(name, args, callOptions = {}) {
      return tools.callTool(
        { name, version: callOptions.version, arguments: (args ?? {}) as JsonObject },
        toCallOptions(callOptions, options.timeoutMs),
      );
    },
    callToolStream(name, args, callOptions = {}) {
      return toToolStream(
        name,
        tools.callToolStream({ name, version: callOptions.version, arguments: (args ?? {}) as JsonObject }, toCallOptions(callOptions, undefined)),
        false,
      );
    },
    healthCheck(healthOptions = {}) {
      return checkHealth(transport, healthOptions.timeoutMs ?? options.timeoutMs ?? 5_000);
    },
    getServerInfo(callOptions) {
      return monitor.getServerInfo({}, unary(callOptions));
    },
    getStats(request = {}, callOptions) {
      return monitor.getStats(request, unary(callOptions));
    },
    getToolUsageStats(name) {
      return usage.get(name);
    },
    getUsageStats() {
      return usage.all();
    },
    addEventListener(listener, listenerOptions) {
      const watcher = createEventWatcher(transport, listener, listenerOptions, options.logger);
      watchers.add(watcher);
      if (connected) watcher.start();
      return async () => {
        watchers.delete(watcher);
        await watcher.stop();
      };
    },
  };
}
