import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  EventType,
  MonitorService,
  StatsScope,
  type GetStatsResponseSchema,
  type WatchEventsResponseSchema,
} from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { EventTypeName } from "../events/event.js";
import type { EventBus, EventStreamItem } from "../events/event-bus.js";
import type { ServerStatusName } from "../events/event.js";
import type { ToolUsage, UsageStats } from "../metrics/usage-stats.js";
import type { ToolRegistry } from "../registry/tool-registry.js";
import { version } from "../version.js";
import { callerFromContext } from "./caller-info.js";
import { eventToBinaryResponse, eventToProto, eventTypeFromProto, serverStatusToProto } from "./event-convert.js";
import { subscribeReader } from "./event-visibility.js";
import { summarizeLatency } from "../metrics/latency-window.js";
import type { ToolUsageRecord } from "../metrics/usage-stats.js";
import type { ClusterView, InstanceStats } from "./cluster-view.js";
import type { MonitorAccess } from "./monitor-access.js";
import type { ServerContext } from "./server-extension.js";
import { createStreamLifetime } from "./stream-lifetime.js";

/** Most names a WatchEvents or GetStats tool filter may list. */
const maxFilterNames = 1000;

/** What the MonitorService implementation reads. */
export interface MonitorServiceDeps {
  /** The server. */
  readonly server: ServerContext;
  /** Events to watch. */
  readonly bus: EventBus;
  /** Usage statistics. */
  readonly stats: UsageStats;
  /** Who may watch and read. */
  readonly access: MonitorAccess;
  /** Surfaces the server serves, for GetServerInfo. */
  readonly protocols: readonly string[];
  /** The server's status and why, for GetServerInfo. */
  readonly status: () => { readonly status: ServerStatusName; readonly reason: string };
  /** The cluster this instance belongs to (peers, cluster statistics), when it shares a store. */
  readonly cluster?: ClusterView | undefined;
  /** This instance's statistics as it publishes them, merged with the peers' for the cluster scope. */
  readonly localStats?: (() => InstanceStats) | undefined;
}

type WatchMessage = MessageInitShape<typeof WatchEventsResponseSchema>;

/** A stream item as a WatchEvents message; `binary` for clients reading the binary format. */
function toWatchMessage(item: EventStreamItem, binary: boolean): WatchMessage {
  if (item.kind === "event") return binary ? eventToBinaryResponse(item.event) : { kind: { case: "event", value: eventToProto(item.event) } };
  return { kind: { case: "heartbeat", value: { time: timestampFromMs(item.time), lastSequence: BigInt(item.lastSequence) } } };
}

/** Whether the request (and so the response) uses the binary protobuf format: every content type but the +json ones. */
function isBinaryRequest(contentType: string | null): boolean {
  return contentType === null || !/\+json\b/i.test(contentType);
}

function checkNames(names: readonly string[], what: string): void {
  if (names.length > maxFilterNames) {
    throw new ConnectError(`${what} lists ${names.length} tools; at most ${maxFilterNames} are accepted`, Code.InvalidArgument);
  }
}

/** Implements toolwire.v1.MonitorService over the event bus, usage stats and registry. */
export function createMonitorService(deps: MonitorServiceDeps): ServiceImpl<typeof MonitorService> {
  const { server, bus, stats, access } = deps;

  return {
    async *watchEvents(req, ctx) {
      const reader = await access.check("events", callerFromContext(ctx));
      const types: EventTypeName[] = [];
      for (const type of req.types) {
        if (type === EventType.UNSPECIFIED) continue;
        const name = eventTypeFromProto(type);
        if (name === undefined) throw new ConnectError(`unknown event type ${type} in types`, Code.InvalidArgument);
        types.push(name);
      }
      checkNames(req.tools, "the tools filter");
      // A sequence beyond 2^53 cannot have been given out; as a number it still compares as "ahead".
      const afterSequence = req.afterSequence === undefined ? undefined : Number(req.afterSequence);
      const lifetime = createStreamLifetime(ctx.signal, server.maxStreamDurationMs, "watch again with after_sequence set to the last sequence received");
      try {
        const subscription = await subscribeReader(bus, reader, { types, tools: req.tools, afterSequence, signal: lifetime.signal });
        try {
          const binary = isBinaryRequest(ctx.requestHeader.get("content-type"));
          for await (const item of subscription) yield toWatchMessage(item, binary);
        } finally {
          subscription.close();
        }
        if (lifetime.expired) throw lifetime.expiredError();
      } finally {
        lifetime.dispose();
      }
    },

    async getStats(req, ctx) {
      await access.check("stats", callerFromContext(ctx));
      if (req.scope !== StatsScope.UNSPECIFIED && req.scope !== StatsScope.INSTANCE && req.scope !== StatsScope.CLUSTER) {
        throw new ConnectError(`unknown stats scope ${req.scope}`, Code.InvalidArgument);
      }
      checkNames(req.tools, "the tools filter");
      if (req.scope === StatsScope.CLUSTER) {
        const { cluster, localStats } = deps;
        if (cluster === undefined || localStats === undefined) {
          throw new ConnectError(
            "cluster statistics need a store shared by several instances (Redis), and this server runs alone; " +
              "ask for STATS_SCOPE_INSTANCE or leave the scope unset",
            Code.FailedPrecondition,
          );
        }
        const degraded = cluster.degradedReason();
        if (degraded !== undefined) {
          throw new ConnectError(`cluster statistics are unavailable: ${degraded}; STATS_SCOPE_INSTANCE still answers`, Code.Unavailable);
        }
        let peers: InstanceStats[];
        try {
          peers = await cluster.peerStats();
        } catch (err) {
          throw new ConnectError(`cluster statistics are unavailable: ${(err as Error).message}; STATS_SCOPE_INSTANCE still answers`, Code.Unavailable);
        }
        const all = [localStats(), ...peers];
        return {
          tools: clusterToolStats(req.tools, all, server.registry),
          registry: registryStats(server.registry),
          server: {
            // The cluster's uptime is that of its oldest live instance.
            uptime: durationSince(Math.min(...all.map((s) => s.startedAt))),
            requests: BigInt(sum(all, (s) => s.requests)),
            errors: BigInt(sum(all, (s) => s.errors)),
            openStreams: sum(all, (s) => s.openStreams),
            inFlight: sum(all, (s) => s.inFlight),
            eventSubscribers: sum(all, (s) => s.eventSubscribers),
          },
          scope: StatsScope.CLUSTER,
        };
      }
      return {
        tools: toolStats(req.tools, stats, server.registry),
        registry: registryStats(server.registry),
        server: {
          uptime: durationSince(server.startedAt),
          requests: BigInt(stats.requests),
          errors: BigInt(stats.errors),
          openStreams: server.streams.open,
          inFlight: server.pipeline.inFlight,
          eventSubscribers: bus.subscribers,
        },
        scope: StatsScope.INSTANCE,
      };
    },

    async getServerInfo(_req, ctx) {
      await access.check("stats", callerFromContext(ctx));
      const { status, reason } = deps.status();
      return {
        serverId: server.serverId,
        version,
        startTime: timestampFromMs(server.startedAt),
        uptime: durationSince(server.startedAt),
        status: serverStatusToProto(status),
        statusReason: reason,
        protocols: [...deps.protocols],
        toolCount: server.registry.size,
        url: server.url,
        peers: await peerList(deps.cluster),
      };
    },
  };
}

type StatsMessage = MessageInitShape<typeof GetStatsResponseSchema>;

async function peerList(cluster: ClusterView | undefined) {
  if (cluster === undefined || cluster.degradedReason() !== undefined) return [];
  // Server info must answer even when the peer list cannot be read; the status says why.
  const peers = await cluster.peers().catch(() => []);
  return peers.map((peer) => ({
    serverId: peer.serverId,
    url: peer.url,
    version: peer.version,
    tools: [...peer.tools],
    lastSeen: timestampFromMs(peer.lastSeen),
  }));
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += pick(item);
  return total;
}

/**
 * Per-tool statistics of every instance merged: counts add up, and percentiles are computed
 * over the union of the instances' latency windows (exact over those windows).
 */
function clusterToolStats(names: readonly string[], instances: readonly InstanceStats[], registry: ToolRegistry): NonNullable<StatsMessage["tools"]> {
  const byName = new Map<string, ToolUsageRecord[]>();
  for (const instance of instances) {
    for (const record of instance.tools) {
      const list = byName.get(record.name);
      if (list === undefined) byName.set(record.name, [record]);
      else list.push(record);
    }
  }
  let wanted: string[];
  if (names.length === 0) wanted = [...byName.keys()].sort();
  else {
    wanted = [...new Set(names)].sort();
    for (const name of wanted) {
      if (!byName.has(name) && registry.versions(name).length === 0) {
        throw new ConnectError(`tool "${name.slice(0, 128)}" is not registered and has no statistics`, Code.NotFound);
      }
    }
  }
  return wanted.map((name) => {
    const records = byName.get(name) ?? [];
    const failuresByCode: Record<string, bigint> = {};
    let lastCallTime: number | undefined;
    const durations: number[] = [];
    for (const record of records) {
      for (const [code, n] of Object.entries(record.failuresByCode)) failuresByCode[code] = (failuresByCode[code] ?? 0n) + BigInt(n);
      if (record.lastCallTime !== undefined && (lastCallTime === undefined || record.lastCallTime > lastCallTime)) lastCallTime = record.lastCallTime;
      for (const d of record.durations) durations.push(d);
    }
    const latency = summarizeLatency(Float64Array.from(durations).sort());
    const successes = sum(records, (r) => r.successes);
    const failures = sum(records, (r) => r.failures);
    return {
      name,
      calls: BigInt(successes + failures),
      successes: BigInt(successes),
      failures: BigInt(failures),
      failuresByCode: Object.fromEntries(Object.entries(failuresByCode).sort(([a], [b]) => (a < b ? -1 : 1))),
      latency: { p50Ms: latency.p50, p95Ms: latency.p95, p99Ms: latency.p99, meanMs: latency.mean, maxMs: latency.max, count: BigInt(latency.count) },
      lastCallTime: lastCallTime === undefined ? undefined : timestampFromMs(lastCallTime),
    };
  });
}

function toolStats(names: readonly string[], stats: UsageStats, registry: ToolRegistry): NonNullable<StatsMessage["tools"]> {
  let usages: ToolUsage[];
  if (names.length === 0) usages = stats.tools();
  else {
    usages = [];
    for (const name of [...new Set(names)].sort()) {
      const usage = stats.tool(name);
      if (usage !== undefined) usages.push(usage);
      else if (registry.versions(name).length > 0) usages.push(emptyUsage(name));
      else throw new ConnectError(`tool "${name.slice(0, 128)}" is not registered and has no statistics`, Code.NotFound);
    }
  }
  return usages.map((u) => ({
    name: u.name,
    calls: BigInt(u.calls),
    successes: BigInt(u.successes),
    failures: BigInt(u.failures),
    failuresByCode: Object.fromEntries(Object.entries(u.failuresByCode).map(([code, n]) => [code, BigInt(n)])),
    latency: {
      p50Ms: u.latency.p50,
      p95Ms: u.latency.p95,
      p99Ms: u.latency.p99,
      meanMs: u.latency.mean,
      maxMs: u.latency.max,
      count: BigInt(u.latency.count),
    },
    lastCallTime: u.lastCallTime === undefined ? undefined : timestampFromMs(u.lastCallTime),
  }));
}

function emptyUsage(name: string): ToolUsage {
  return {
    name,
    calls: 0,
    successes: 0,
    failures: 0,
    failuresByCode: {},
    latency: { p50: 0, p95: 0, p99: 0, mean: 0, max: 0, count: 0 },
    lastCallTime: undefined,
  };
}

function registryStats(registry: ToolRegistry): NonNullable<StatsMessage["registry"]> {
  const byCategory: Record<string, number> = {};
  const byLevel: Record<string, number> = {};
  let versions = 0;
  for (const tool of registry.list()) {
    const category = tool.manifest.category ?? "";
    byCategory[category] = (byCategory[category] ?? 0) + 1;
    byLevel[tool.securityLevel] = (byLevel[tool.securityLevel] ?? 0) + 1;
    versions += registry.versions(tool.name).length;
  }
  return { tools: registry.size, versions, toolsByCategory: byCategory, toolsBySecurityLevel: byLevel };
}

function durationSince(startedAt: number): { seconds: bigint; nanos: number } {
  const ms = Math.max(0, Date.now() - startedAt);
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
