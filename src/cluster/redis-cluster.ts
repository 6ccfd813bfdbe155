import type { Redis } from "ioredis";
import { createRedisEventStore } from "../events/redis-event-store.js";
import type { ClusterBackend, ClusterPeer, ClusterView, InstanceStats } from "../server/cluster-view.js";
import type { ServerContext } from "../server/server-extension.js";
import { version } from "../version.js";

/** Options of {@link createRedisCluster}. */
export interface RedisClusterOptions {
  /** The shared Redis client (the one the rate limiter uses). */
  readonly redis: Redis;
  /** Prefix of every key (default "toolwire:"). */
  readonly keyPrefix?: string | undefined;
  /** How often an instance announces itself and publishes its statistics, in ms (default 2 000). */
  readonly heartbeatMs?: number | undefined;
  /** How long an announcement lives without a new one, in ms (default 3 heartbeats). */
  readonly ttlMs?: number | undefined;
  /** About how many events the shared stream keeps for replay (default 10 000). */
  readonly eventStreamLength?: number | undefined;
  /** How long the shared stream keeps an event for replay, in ms (default: no age limit). */
  readonly eventMaxAgeMs?: number | undefined;
  /** Most events buffered locally while Redis is away (default 10 000). */
  readonly eventBufferSize?: number | undefined;
  /** How rate limits behave while Redis is away, for the degraded reason ("local budgets", ...). */
  readonly rateLimitFallback?: string | undefined;
}

interface Announcement extends ClusterPeer {
  readonly stats: InstanceStats;
}

/**
 * Creates the Redis cluster backend: a Redis Streams event store shared by every instance,
 * membership (each instance SETs its announcement with a TTL and scores itself in a sorted set
 * by last heartbeat) and per-instance statistics published with each heartbeat, and a degraded
 * status while Redis is away.
 */
export function createRedisCluster(options: RedisClusterOptions): ClusterBackend {
  const { redis } = options;
  const prefix = options.keyPrefix ?? "toolwire:";
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const ttlMs = options.ttlMs ?? heartbeatMs * 3;
  const membersKey = `${prefix}members`;
  const memberKey = (id: string) => `${prefix}member:${id}`;
  let store: ReturnType<typeof createRedisEventStore> | undefined;

  return {
    eventStore(server) {
      store = createRedisEventStore({
        redis,
        serverId: server.serverId,
        keyPrefix: prefix,
        maxLength: options.eventStreamLength,
        maxAgeMs: options.eventMaxAgeMs,
        bufferSize: options.eventBufferSize,
        onError: (err) => server.logger.debug({ err: err.message }, "event store: redis error"),
      });
      return store;
    },
    join(server: ServerContext, localStats: () => InstanceStats): ClusterView {
      let closed = false;
      let lastError = "";
      let downSince: number | undefined = redis.status === "ready" ? undefined : Date.now();
      let reportedDown = downSince !== undefined;
      let listeners: readonly ((reason: string | undefined) => void)[] = [];

      const reason = (): string | undefined => {
        if (downSince === undefined) return undefined;
        const buffered = store === undefined ? "" : `, ${store.buffered} events buffered locally`;
        return (
          `Redis is unreachable since ${new Date(downSince).toISOString()}${lastError === "" ? "" : ` (${lastError})`}: ` +
          `calls are served, rate limits use ${options.rateLimitFallback ?? "local budgets"}${buffered}, ` +
          "peers and cluster statistics are unavailable; reconnecting"
        );
      };
      const changed = () => {
        const now = reason();
        for (const listener of listeners) listener(now);
      };
      const onError = (err: Error) => {
        lastError = err.message;
      };
      const onDown = () => {
        downSince ??= Date.now();
        if (!reportedDown) {
          reportedDown = true;
          server.logger.warn({ reason: reason() }, "degraded: redis unreachable");
          changed();
        }
      };
      const onReady = () => {
        downSince = undefined;
        lastError = "";
        if (reportedDown) {
          reportedDown = false;
          server.logger.info("redis is back: serving normally");
          changed();
        }
        void announce();
      };
      redis.on("error", onError);
      redis.on("close", onDown);
      redis.on("ready", onReady);

      async function announce(): Promise<void> {
        if (closed || redis.status !== "ready" || server.url === "") return;
        const now = Date.now();
        const announcement: Announcement = {
          serverId: server.serverId,
          url: server.url,
          version,
          tools: server.registry.list().map((tool) => tool.name),
          lastSeen: now,
          stats: localStats(),
        };
        try {
          await redis
            .multi()
            .set(memberKey(server.serverId), JSON.stringify(announcement), "PX", ttlMs)
            .zadd(membersKey, now, server.serverId)
            // Ids of instances that died without leaving: their keys expired long ago.
            .zremrangebyscore(membersKey, "-inf", now - ttlMs * 10)
            .exec();
        } catch {
          // Redis went away mid-heartbeat; the next one after it returns announces again.
        }
      }

      async function announcements(): Promise<Announcement[]> {
        if (redis.status !== "ready") return [];
        const ids = (await redis.zrangebyscore(membersKey, Date.now() - ttlMs, "+inf")).filter((id) => id !== server.serverId);
        if (ids.length === 0) return [];
        const values = await redis.mget(ids.map(memberKey));
        const found: Announcement[] = [];
        for (const value of values) if (value !== null) found.push(JSON.parse(value) as Announcement);
        return found.sort((a, b) => (a.serverId < b.serverId ? -1 : 1));
      }

      // Unreferenced: announcing alone must not keep a process alive.
      const timer = setInterval(() => void announce(), heartbeatMs);
      timer.unref();

      return {
        async peers() {
          return (await announcements()).map(({ stats: _stats, ...peer }) => peer);
        },
        async peerStats() {
          return (await announcements()).map((a) => a.stats);
        },
        degradedReason: reason,
        // The URL is known only once listening; announce as soon as it is.
        listening: () => void announce(),
        onDegradedChange(listener) {
          listeners = [...listeners, listener];
          return () => {
            listeners = listeners.filter((l) => l !== listener);
          };
        },
        async close() {
          closed = true;
          clearInterval(timer);
          redis.off("error", onError);
          redis.off("close", onDown);
          redis.off("ready", onReady);
          listeners = [];
          if (redis.status === "ready") {
            await redis
              .multi()
              .del(memberKey(server.serverId))
              .zrem(membersKey, server.serverId)
              .exec()
              .catch(() => undefined);
          }
        },
      };
    },
  };
}
