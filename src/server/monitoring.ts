import type { DescService } from "@bufbuild/protobuf";
import { Health } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { ServerReflection as ServerReflectionV1 } from "../../gen/proto/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/proto/grpc/reflection/v1alpha/reflection_pb.js";
import { MonitorService } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { createEventBus } from "../events/event-bus.js";
import type { EventStore } from "../events/event-store.js";
import type { ServerStatusName } from "../events/event.js";
import { createMemoryEventStore } from "../events/memory-event-store.js";
import { createCallLogObserver } from "../logging/call-log-observer.js";
import { createServerMetrics } from "../metrics/server-metrics.js";
import { createUsageStats } from "../metrics/usage-stats.js";
import type { SecurityLevelName } from "../security/security-level.js";
import { version } from "../version.js";
import { createEventsRoute } from "./events-route.js";
import { createHealthService, createHealthStatus } from "./health-service.js";
import { createMetricsRoute } from "./metrics-route.js";
import { createMonitorAccess, type MonitorSurface } from "./monitor-access.js";
import { createMonitorObserver } from "./monitor-observer.js";
import { createMonitorService } from "./monitor-service.js";
import { createReflectionIndex, createReflectionServiceV1, createReflectionServiceV1alpha } from "./reflection-service.js";
import type { ClusterBackend, ClusterView, InstanceStats } from "./cluster-view.js";
import type { ServerContext, ServerExtensionFactory } from "./server-extension.js";

/** Options of {@link createMonitoring}. */
export interface MonitoringOptions {
  /** Events kept for replay (WatchEvents after_sequence, SSE Last-Event-ID); default 10 000. */
  readonly replayBufferSize?: number | undefined;
  /** Events that may wait for one subscriber before it is cut off as too slow; default 1024. */
  readonly subscriberQueueSize?: number | undefined;
  /** How often idle event streams get a heartbeat, in ms (keeps proxies from closing them); default 15 000. */
  readonly heartbeatIntervalMs?: number | undefined;
  /** Put call arguments into tool_called events; default false, since arguments may hold secrets. */
  readonly includeArguments?: boolean | undefined;
  /**
   * The security level each surface requires: `events` (WatchEvents, /events), `stats`
   * (GetStats, GetServerInfo) and `metrics` (/metrics). Default "public" for each. Health and
   * reflection are always open, as the standard protocols expect.
   */
  readonly access?: Partial<Record<MonitorSurface, SecurityLevelName>> | undefined;
  /** Durations kept per tool for latency percentiles; default 1024. */
  readonly latencyWindow?: number | undefined;
  /** Append the process's default metrics (CPU, memory, event loop, GC) to /metrics; default true. */
  readonly processMetrics?: boolean | undefined;
  /** Write one log line per call to the server's logger; default true. */
  readonly logCalls?: boolean | undefined;
  /** Surfaces GetServerInfo lists; default connect, grpc, grpc-web, sse. */
  readonly protocols?: readonly string[] | undefined;
  /** Other services on the server, for reflection and health (ToolService and the monitoring ones are always included). */
  readonly services?: readonly DescService[] | undefined;
  /** The event store; default the in-memory ring buffer of `replayBufferSize` events. */
  readonly eventStore?: ((server: ServerContext) => EventStore) | undefined;
  /**
   * A shared backend (createRedisCluster) making several instances one cluster: its event store
   * replaces `eventStore`, GetServerInfo lists peers, GetStats answers STATS_SCOPE_CLUSTER, and
   * the status turns degraded while the backend is away.
   */
  readonly cluster?: ClusterBackend | undefined;
}

function wholeNumber(value: number | undefined, fallback: number, name: string, min: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min) throw new RangeError(`monitoring option ${name} must be a whole number ≥ ${min}, got ${String(value)}`);
  return n;
}

/**
 * Creates the monitoring extension: toolwire.v1.MonitorService (WatchEvents, GetStats,
 * GetServerInfo), `GET /events` (Server-Sent Events), `GET /metrics` (Prometheus),
 * grpc.health.v1.Health, gRPC server reflection v1 and v1alpha, and one log line per call.
 * Pass it in `createToolwireServer({ extensions: [createMonitoring()] })`.
 */
export function createMonitoring(options: MonitoringOptions = {}): ServerExtensionFactory {
  const replayBufferSize = wholeNumber(options.replayBufferSize, 10_000, "replayBufferSize", 1);
  const queueSize = wholeNumber(options.subscriberQueueSize, 1024, "subscriberQueueSize", 1);
  const heartbeatIntervalMs = wholeNumber(options.heartbeatIntervalMs, 15_000, "heartbeatIntervalMs", 0);
  const latencyWindow = wholeNumber(options.latencyWindow, 1024, "latencyWindow", 1);
  const levels = {
    events: options.access?.events ?? "public",
    stats: options.access?.stats ?? "public",
    metrics: options.access?.metrics ?? "public",
  } satisfies Record<MonitorSurface, SecurityLevelName>;
  const protocols = options.protocols ?? ["connect", "grpc", "grpc-web", "sse"];

  return (server) => {
    const store =
      options.cluster?.eventStore(server) ?? options.eventStore?.(server) ?? createMemoryEventStore({ serverId: server.serverId, capacity: replayBufferSize });
    const stats = createUsageStats({ windowSize: latencyWindow });
    let subscribers = () => 0;
    const metrics = createServerMetrics({
      version,
      processMetrics: options.processMetrics,
      gauges: {
        inFlight: () => server.pipeline.inFlight,
        openStreams: () => server.streams.open,
        eventSubscribers: () => subscribers(),
        tools: () => server.registry.size,
      },
    });
    const bus = createEventBus({ store, queueSize, heartbeatIntervalMs, onSubscriberDropped: () => metrics.subscriberDropped() });
    subscribers = () => bus.subscribers;
    const access = createMonitorAccess(server.pipeline, levels, server.logger);

    const ownServices: DescService[] = [MonitorService, Health, ServerReflectionV1, ServerReflectionV1alpha];
    const allServices = [ToolService, ...ownServices, ...(options.services ?? [])];
    const health = createHealthStatus([...new Set(allServices.map((s) => s.typeName))]);
    const reflection = createReflectionIndex(allServices);

    const localStats = (): InstanceStats => ({
      serverId: server.serverId,
      startedAt: server.startedAt,
      requests: stats.requests,
      errors: stats.errors,
      inFlight: server.pipeline.inFlight,
      openStreams: server.streams.open,
      eventSubscribers: bus.subscribers,
      tools: stats.records(),
    });
    const cluster: ClusterView | undefined = options.cluster?.join(server, localStats);

    const status = (): { status: ServerStatusName; reason: string } => {
      if (server.shuttingDown) return { status: "draining", reason: "shutting down: running calls finish, new ones are refused" };
      const degraded = cluster?.degradedReason();
      return degraded === undefined ? { status: "serving", reason: "" } : { status: "degraded", reason: degraded };
    };
    const publishStatus = (status: ServerStatusName, message: string) =>
      bus.publish({ type: "server_status", toolName: "", toolVersion: "", callerId: "", requestId: "", code: "", message, durationMs: undefined, status, arguments: undefined });

    const stopObserving = server.pipeline.observe(
      createMonitorObserver({
        registry: server.registry,
        bus,
        stats,
        metrics,
        includeArguments: options.includeArguments === true,
        next: options.logCalls === false ? undefined : createCallLogObserver(server.logger),
      }),
    );
    const stopListening = server.registry.onChange((change) =>
      bus.publish({
        type: change.type === "registered" ? "tool_registered" : "tool_unregistered",
        toolName: change.tool.name,
        toolVersion: change.tool.version,
        callerId: "",
        requestId: "",
        code: "",
        message: `tool "${change.tool.name}" version ${change.tool.version} ${change.type}`,
        durationMs: undefined,
        status: undefined,
        arguments: undefined,
      }),
    );
    publishStatus("serving", `serving ${server.registry.size} tools`);
    const stopDegradedChanges = cluster?.onDegradedChange((reason) =>
      publishStatus(reason === undefined ? "serving" : "degraded", reason ?? "the shared store is back: serving normally"),
    );

    let shutDown = false;
    return {
      services: ownServices,
      routes(router) {
        router.service(MonitorService, createMonitorService({ server, bus, stats, access, protocols, status, cluster, localStats }));
        router.service(Health, createHealthService(health, server.maxStreamDurationMs));
        router.service(ServerReflectionV1, createReflectionServiceV1(reflection));
        router.service(ServerReflectionV1alpha, createReflectionServiceV1alpha(reflection));
      },
      httpRoutes: {
        "/events": createEventsRoute({ bus, access, maxStreamDurationMs: server.maxStreamDurationMs }),
        "/metrics": createMetricsRoute({ metrics, access }),
      },
      degradedReason: () => (server.shuttingDown ? undefined : cluster?.degradedReason()),
      listening: () => cluster?.listening(),
      shutdown() {
        if (shutDown) return;
        shutDown = true;
        // Watchers learn why their streams end before they end.
        publishStatus("draining", status().reason);
        health.shutdown();
        bus.shutdown();
      },
      async close() {
        this.shutdown?.();
        stopObserving();
        stopListening();
        stopDegradedChanges?.();
        await cluster?.close();
        await bus.close();
        metrics.clear();
      },
    };
  };
}
