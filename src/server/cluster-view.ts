import type { EventStore } from "../events/event-store.js";
import type { ToolUsageRecord } from "../metrics/usage-stats.js";
import type { ServerContext } from "./server-extension.js";

/** Another live instance of the same cluster, as it last announced itself. */
export interface ClusterPeer {
  /** Its id. */
  readonly serverId: string;
  /** Where clients reach it. */
  readonly url: string;
  /** Its Toolwire version. */
  readonly version: string;
  /** Names of the tools it serves. */
  readonly tools: readonly string[];
  /** When it last announced itself, epoch ms. */
  readonly lastSeen: number;
}

/** One instance's statistics, as it publishes them for cluster-wide GetStats. */
export interface InstanceStats {
  /** The instance. */
  readonly serverId: string;
  /** When it started, epoch ms. */
  readonly startedAt: number;
  /** Tool calls received. */
  readonly requests: number;
  /** Tool calls that failed or were refused. */
  readonly errors: number;
  /** Calls running when it published. */
  readonly inFlight: number;
  /** CallToolStream responses open when it published. */
  readonly openStreams: number;
  /** Event subscribers when it published. */
  readonly eventSubscribers: number;
  /** Per-tool usage. */
  readonly tools: readonly ToolUsageRecord[];
}

/** What monitoring sees of the cluster this instance belongs to. */
export interface ClusterView {
  /** The other live instances. */
  peers(): Promise<ClusterPeer[]>;
  /** The other live instances' latest published statistics (at most one heartbeat old). */
  peerStats(): Promise<InstanceStats[]>;
  /** Why the instance is degraded (the shared store is away), undefined when it is not. */
  degradedReason(): string | undefined;
  /** Calls `listener` with the new reason (undefined: recovered) when it changes; returns the unsubscribe function. */
  onDegradedChange(listener: (reason: string | undefined) => void): () => void;
  /** The server is listening: announce this instance (its URL is known only now). */
  listening(): void;
  /** Stops announcing this instance and removes it from the peer list. */
  close(): Promise<void>;
}

/** A shared backend (Redis) that makes several instances one cluster for monitoring. */
export interface ClusterBackend {
  /** The event store every instance shares. */
  eventStore(server: ServerContext): EventStore;
  /** Starts announcing this instance; `localStats` gives what it publishes with each heartbeat. */
  join(server: ServerContext, localStats: () => InstanceStats): ClusterView;
}
