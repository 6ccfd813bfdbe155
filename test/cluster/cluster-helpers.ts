import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
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
import { startServer, type TestServer } from "../helpers/server.js";

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** A free loopback port (racy by nature; callers retry when it was taken). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

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
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      proc.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          proc.stdout?.removeAllListeners("data");
          proc.stdout?.resume();
          resolve();
        }
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
    proc.stderr?.resume();
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    await exited;
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

/** The test runner's environment without TOOLWIRE_* settings, plus `extra`. */
export function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TOOLWIRE_")));
  return { ...env, ...extra };
}

/** A `toolwire serve` child process. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/** Writes a config file into a fresh temporary directory and returns its path. */
export async function writeConfig(config: ToolwireConfig): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "toolwire-cluster-"));
  const path = join(dir, "toolwire.json");
  await writeFile(path, JSON.stringify(config));
  return path;
}

/** Spawns `toolwire serve` (through the package's bin) and waits for its listening line. */
export async function spawnServe(args: readonly string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const port = args.includes("--port") ? [] : ["--port", "0"];
  const child = spawn(process.execPath, [join(root, "src/cli/bin.mjs"), "serve", "--log-level", "warn", ...port, ...args], {
    cwd: root,
    env: environment(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no listening line in: ${output}`));
    }, 30_000);
    child.stdout?.on("data", () => {
      const match = /toolwire listening on (\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${output}`));
    });
  });
  return { child, url, output: () => output };
}

/** Kills a child by pid with `signal` and waits for it to exit. */
export async function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  await exited;
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
