import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { EventType, MonitorService, type Event } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { ToolwireConfig } from "../../gen/schema/config.js";
import { createRedisCluster } from "../../src/cluster/index.js";
import { resolveServerSettings, type ServerSettings } from "../../src/config/index.js";
import type { AnyToolDefinition } from "../../src/registry/index.js";
import { createMonitoring } from "../../src/server/monitoring.js";
import { echo } from "../../src/tools/index.js";
import { freePort } from "../helpers/ports.js";
import { captureOutput, killChild, waitForOutput } from "../helpers/processes.js";
import { startServer, type TestServer } from "../helpers/server.js";

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** A redis-server whose data survives a restart (append-only file), so it can be stopped and started again on the same port. */
export interface RestartableRedis {
  readonly url: string;
  readonly port: number;
  /** Starts it (again) on the same port. */
  start(): Promise<void>;
  /** Stops it (SIGTERM by pid, which also saves its data) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

/** Creates (and starts) a restartable redis-server on a random loopback port. */
export async function startRestartableRedis(): Promise<RestartableRedis> {
  const dir = await mkdtemp(join(tmpdir(), "toolwire-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    const { stdout } = captureOutput(proc);
    await waitForOutput(proc, stdout, /Ready to accept connections/, 10_000);
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (proc !== undefined) await killChild(proc, "SIGTERM");
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One Toolwire instance of a test cluster, configured the way `toolwire serve` is. */
export interface Instance extends TestServer {
  readonly settings: ServerSettings;
  readonly monitor: Client<typeof MonitorService>;
  /** Stops the server, then its Redis connection. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startInstance}. */
export interface InstanceOptions {
  readonly redis?: Partial<NonNullable<ToolwireConfig["redis"]>>;
  readonly tools?: readonly AnyToolDefinition[];
  readonly serverId?: string;
}

/** Starts an in-process instance with its own Redis connection, built from a config as `toolwire serve` builds it. */
export async function startInstance(redisUrl: string, options: InstanceOptions = {}): Promise<Instance> {
  const settings = await resolveServerSettings(
    { redis: { url: redisUrl, heartbeatMs: 200, connectTimeoutMs: 1000, ...options.redis } },
    { baseDir: root, env: {} },
  );
  const cluster = settings.cluster;
  const redis = settings.redis;
  if (cluster === undefined || redis === undefined) throw new Error("redis settings did not resolve");
  const server = await startServer({
    tools: options.tools ?? [echo],
    rateLimiter: settings.rateLimiter,
    ...(options.serverId === undefined ? {} : { serverId: options.serverId }),
    extensions: [
      createMonitoring({
        processMetrics: false,
        logCalls: false,
        heartbeatIntervalMs: 0,
        cluster: createRedisCluster({
          redis,
          keyPrefix: cluster.keyPrefix,
          heartbeatMs: cluster.heartbeatMs,
          eventStreamLength: cluster.eventStreamLength,
          eventMaxAgeMs: cluster.eventMaxAgeMs,
          eventBufferSize: cluster.eventBufferSize,
        }),
      }),
    ],
  });
  const monitor = createClient(MonitorService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
  return {
    ...server,
    settings,
    monitor,
    async stop(graceMs = 0) {
      await server.close(graceMs);
      await settings.close();
    },
  };
}

/** Writes a config file into a fresh temporary directory and returns its path. */
export async function writeConfig(config: ToolwireConfig): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "toolwire-cluster-"));
  const path = join(dir, "toolwire.json");
  await writeFile(path, JSON.stringify(config));
  return path;
}

/** Reads tool_succeeded events from a WatchEvents stream until `count` arrived. */
export async function collect(monitor: Client<typeof MonitorService>, count: number, afterSequence?: bigint): Promise<Event[]> {
  const abort = new AbortController();
  const events: Event[] = [];
  try {
    for await (const message of monitor.watchEvents({ types: [EventType.TOOL_SUCCEEDED], afterSequence }, { signal: abort.signal })) {
      if (message.kind.case !== "event") continue;
      events.push(message.kind.value);
      if (events.length === count) break;
    }
  } finally {
    abort.abort();
  }
  return events;
}
