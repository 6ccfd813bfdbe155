// `npm run bench -- --cluster`: what Redis and nginx cost, and what a second instance adds. The
// echo CallTool (Connect JSON over HTTP/1.1, the main bench's load) against `toolwire serve`
// processes sharing a redis-server: one instance directly, one behind nginx, two behind nginx
// (test/deploy/nginx.conf.template). redis-server, nginx and the instances are started here on
// random loopback ports and stopped by pid.
import { spawnSync } from "node:child_process";
import { killChild } from "../helpers/processes.js";
import { spawnServe, type ServeProcess } from "../helpers/serve-process.js";
import { startNginx, type TestNginx } from "../deploy/nginx.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import type { BenchOptions } from "./bench-options.js";
import { benchRunInfo, median } from "./bench-report.js";
import { benchTargets, callToolBody, jsonHeaders, type BenchTarget } from "./bench-targets.js";
import { checkEcho } from "./check-echo.js";
import { loadProblems, type LoadSpec } from "./load-spec.js";
import { startLoadProcess } from "./load-process.js";
import { childProcesses, cpuMicrosOf } from "./process-cpu.js";

/** Which deployment a cluster bench row measures. */
export type ClusterSetupKind = "direct-1" | "nginx-1" | "nginx-2";

/** One deployment of the cluster bench. */
export interface ClusterSetup {
  readonly kind: ClusterSetupKind;
  /** Name shown in the report. */
  readonly label: string;
  /** `toolwire serve` processes sharing the redis-server. */
  readonly instances: number;
  /** Whether the load goes through nginx (otherwise straight to the one instance). */
  readonly nginx: boolean;
}

/** The deployments, in the order they are measured in each round. */
export const clusterSetups: readonly ClusterSetup[] = [
  { kind: "direct-1", label: "1 instance + Redis, direct", instances: 1, nginx: false },
  { kind: "nginx-1", label: "1 instance + Redis behind nginx", instances: 1, nginx: true },
  { kind: "nginx-2", label: "2 instances + Redis behind nginx", instances: 2, nginx: true },
];

/** What one deployment measured in one round; CPU figures are over the measured window, in µs. */
export interface ClusterMeasurement {
  readonly setup: ClusterSetup;
  /** Calls completed in the measured window (all 2xx). */
  readonly requests: number;
  readonly elapsedSeconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** All instances together. */
  readonly instanceCpuMicros: number;
  /** Each instance's share of {@link instanceCpuMicros}, to show how evenly nginx spread the load. */
  readonly instanceCpuShares: readonly number[];
  /** nginx master and workers; null without nginx. */
  readonly nginxCpuMicros: number | null;
  /** redis-server, as its INFO cpu reports it. */
  readonly redisCpuMicros: number;
  /** The load generator's process. */
  readonly loadCpuMicros: number;
}

/** One row of the cluster report: medians over the rounds, CPU per completed call. */
export interface ClusterRow {
  readonly kind: ClusterSetupKind;
  readonly label: string;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly instanceCpuMicrosPerCall: number;
  readonly nginxCpuMicrosPerCall: number | null;
  readonly redisCpuMicrosPerCall: number;
  readonly loadCpuMicrosPerCall: number;
}

/** The whole result of a cluster bench run, as printed by `--json`. */
export interface ClusterBenchReport {
  readonly environment: { readonly node: string; readonly cpu: string; readonly cores: number; readonly redis: string; readonly nginx: string };
  readonly settings: {
    readonly durationSeconds: number;
    readonly warmupSeconds: number;
    readonly connections: number;
    readonly rounds: number;
  };
  readonly rows: readonly ClusterRow[];
  /** Two instances behind nginx against one behind nginx: median of the per-round ratios. */
  readonly twoVsOne: {
    readonly rpsRatio: number | null;
    readonly roundRpsRatios: readonly number[];
    readonly instanceCpuPerCallRatio: number | null;
  };
}

/** The version line of a required program, or an error saying it is missing. */
function requireProgram(command: string, args: readonly string[], install: string): string {
  const result = spawnSync(command, [...args], { encoding: "utf8" });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error !== undefined ? result.error.message : `exit code ${result.status}`;
    throw new Error(`the cluster bench needs ${command} on PATH, and running "${command} ${args.join(" ")}" failed (${why}); install it (${install})`);
  }
  return `${result.stdout}${result.stderr}`.trim().split("\n")[0] ?? command;
}

/** redis-server's own CPU time (user + system) so far, from INFO cpu, in µs. */
async function redisCpuMicros(redis: TestRedis): Promise<number> {
  const info = await redis.client.info("cpu");
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? Number.NaN);
  return (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1_000_000;
}

/** nginx's master (a child of this process, as startNginx spawns it) and its workers. */
function nginxPids(): number[] {
  const masters = childProcesses(process.pid, "nginx");
  return masters.flatMap((master) => [master.pid, ...childProcesses(master.pid).map((worker) => worker.pid)]);
}

// Processes started outside the fork helpers, signalled by pid if this process exits while they run
// (an error or a signal between start and stop).
const live = new Set<number>();
process.once("exit", () => {
  for (const pid of live) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
});

const toolwireTarget = benchTargets.find((target) => target.kind === "toolwire") as BenchTarget;

/** Starts the instances (and nginx) of one setup, measures it like the main bench does, and stops them. */
async function measureSetup(setup: ClusterSetup, redis: TestRedis, options: BenchOptions, log: (line: string) => void): Promise<ClusterMeasurement> {
  // Every setup starts from an empty Redis and fresh instances: an instance left idle would still
  // tail and decode every event of the stream, and be counted against the setup it is not in.
  await redis.client.flushall();
  const instances: ServeProcess[] = [];
  let nginx: TestNginx | undefined;
  let nginxProcesses: number[] = [];
  const target: BenchTarget = { ...toolwireTarget, label: setup.label };
  try {
    for (let i = 0; i < setup.instances; i++) {
      const instance = await spawnServe([], { TOOLWIRE_REDIS_URL: redis.url });
      instances.push(instance);
      if (instance.child.pid !== undefined) live.add(instance.child.pid);
      await checkEcho(`${instance.url}${toolwireTarget.path}`, target);
    }
    const pids = instances.map((instance) => instance.child.pid ?? -1);
    if (setup.nginx) {
      nginx = await startNginx(instances.map((instance) => Number(new URL(instance.url).port)));
      nginxProcesses = nginxPids();
      for (const pid of nginxProcesses) live.add(pid);
    }
    const url = `${nginx?.httpUrl ?? (instances[0] as ServeProcess).url}${toolwireTarget.path}`;
    await checkEcho(url, target);
    log(`${setup.label}: instance pids ${pids.join(", ")}${nginx === undefined ? "" : `, nginx pids ${nginxProcesses.join(", ")}`}, load at ${url}`);

    const load = startLoadProcess();
    try {
      const spec = (durationSeconds: number): LoadSpec => ({
        url,
        body: callToolBody,
        headers: jsonHeaders,
        connections: options.connections,
        durationSeconds,
      });
      log(`${setup.label}: warm-up ${options.warmupSeconds} s (load pid ${load.pid})`);
      const warmup = await load.run(spec(options.warmupSeconds));
      const warmupProblems = loadProblems(warmup);
      if (warmupProblems !== undefined) throw new Error(`${setup.label}: warm-up was not clean: ${warmupProblems}`);

      log(`${setup.label}: measuring ${options.durationSeconds} s`);
      const instancesBefore = pids.map((pid) => cpuMicrosOf([pid]));
      const nginxBefore = cpuMicrosOf(nginxProcesses);
      const redisBefore = await redisCpuMicros(redis);
      const loadBefore = cpuMicrosOf([load.pid]);
      const measured = await load.run(spec(options.durationSeconds));
      const instancesUsed = pids.map((pid, i) => cpuMicrosOf([pid]) - (instancesBefore[i] as number));
      const nginxUsed = cpuMicrosOf(nginxProcesses) - nginxBefore;
      const redisUsed = (await redisCpuMicros(redis)) - redisBefore;
      const loadUsed = cpuMicrosOf([load.pid]) - loadBefore;
      const problems = loadProblems(measured);
      if (problems !== undefined) throw new Error(`${setup.label}: measured run was not clean: ${problems}`);

      const instanceCpuMicros = instancesUsed.reduce((sum, used) => sum + used, 0);
      const shares = instancesUsed.map((used) => (instanceCpuMicros > 0 ? used / instanceCpuMicros : 0));
      if (instances.length > 1) log(`${setup.label}: instance CPU shares ${shares.map((share) => `${(share * 100).toFixed(0)} %`).join(" / ")}`);
      return {
        setup,
        requests: measured.completed,
        elapsedSeconds: measured.elapsedSeconds,
        requestsPerSecond: measured.completed / measured.elapsedSeconds,
        p50Ms: measured.p50Ms,
        p99Ms: measured.p99Ms,
        instanceCpuMicros,
        instanceCpuShares: shares,
        nginxCpuMicros: setup.nginx ? nginxUsed : null,
        redisCpuMicros: redisUsed,
        loadCpuMicros: loadUsed,
      };
    } finally {
      await load.stop();
    }
  } finally {
    if (nginx !== undefined) await nginx.stop();
    for (const pid of nginxProcesses) live.delete(pid);
    for (const instance of instances) {
      await killChild(instance.child, "SIGTERM");
      if (instance.child.pid !== undefined) live.delete(instance.child.pid);
    }
  }
}


/** Folds the measurements (in the order taken, round by round) into medians and the 2-vs-1 ratios. */
export function buildClusterReport(
  all: readonly ClusterMeasurement[],
  options: BenchOptions,
  versions: { readonly redis: string; readonly nginx: string },
): ClusterBenchReport {
  const rows = clusterSetups.flatMap((setup): ClusterRow[] => {
    const rounds = all.filter((m) => m.setup.kind === setup.kind);
    if (rounds.length === 0) return [];
    const pick = (f: (m: ClusterMeasurement) => number) => median(rounds.map(f));
    return [
      {
        kind: setup.kind,
        label: setup.label,
        requests: rounds.reduce((sum, m) => sum + m.requests, 0),
        requestsPerSecond: pick((m) => m.requestsPerSecond),
        p50Ms: pick((m) => m.p50Ms),
        p99Ms: pick((m) => m.p99Ms),
        instanceCpuMicrosPerCall: pick((m) => m.instanceCpuMicros / m.requests),
        nginxCpuMicrosPerCall: setup.nginx ? pick((m) => (m.nginxCpuMicros ?? Number.NaN) / m.requests) : null,
        redisCpuMicrosPerCall: pick((m) => m.redisCpuMicros / m.requests),
        loadCpuMicrosPerCall: pick((m) => m.loadCpuMicros / m.requests),
      },
    ];
  });
  // Per round, so each ratio compares setups measured a minute apart rather than a whole run apart.
  const ones = all.filter((m) => m.setup.kind === "nginx-1");
  const twos = all.filter((m) => m.setup.kind === "nginx-2");
  const roundRpsRatios = twos.flatMap((two, i) => {
    const one = ones[i];
    return one === undefined ? [] : [two.requestsPerSecond / one.requestsPerSecond];
  });
  const cpuRatios = twos.flatMap((two, i) => {
    const one = ones[i];
    return one === undefined ? [] : [two.instanceCpuMicros / two.requests / (one.instanceCpuMicros / one.requests)];
  });
  return {
    ...benchRunInfo(options, versions),
    rows,
    twoVsOne: {
      rpsRatio: roundRpsRatios.length > 0 ? median(roundRpsRatios) : null,
      roundRpsRatios,
      instanceCpuPerCallRatio: cpuRatios.length > 0 ? median(cpuRatios) : null,
    },
  };
}

/**
 * Runs the cluster bench: checks that redis-server and nginx are installed (throwing with what to
 * install otherwise), starts redis-server, then measures every setup once per round, interleaved.
 */
export async function runClusterBench(options: BenchOptions, log: (line: string) => void): Promise<ClusterBenchReport> {
  const versions = {
    redis: requireProgram("redis-server", ["--version"], "Debian: apt-get install redis-server"),
    nginx: requireProgram("nginx", ["-v"], "Debian: apt-get install nginx"),
  };
  const redis = await startRedis();
  const redisPids = childProcesses(process.pid, "redis-server").map((p) => p.pid);
  for (const pid of redisPids) live.add(pid);
  try {
    log(`redis-server at ${redis.url}`);
    const measurements: ClusterMeasurement[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      if (options.rounds > 1) log(`round ${round} of ${options.rounds}`);
      for (const setup of clusterSetups) measurements.push(await measureSetup(setup, redis, options, log));
    }
    return buildClusterReport(measurements, options, versions);
  } finally {
    await redis.stop();
    for (const pid of redisPids) live.delete(pid);
  }
}

const fixed = (value: number | null, digits: number) => (value !== null && Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const times = (ratio: number | null) => (ratio === null ? "n/a" : `${ratio.toFixed(2)}×`);

/** Renders the cluster report as a markdown table plus the 2-vs-1 line. */
export function formatClusterBenchReport(report: ClusterBenchReport): string {
  const { environment: env, settings } = report;
  const lines = [
    `Node ${env.node}, ${env.cores} × ${env.cpu}; ${env.redis}; ${env.nginx}. Echo CallTool, Connect JSON over HTTP/1.1, ` +
      `${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s measured per setup, ` +
      `${settings.rounds} interleaved round${settings.rounds === 1 ? "" : "s"} (medians). Everything runs on this machine, the load generator included.`,
    "",
    "| setup | calls/s | p50 ms | p99 ms | instances CPU µs/call | nginx CPU µs/call | Redis CPU µs/call | load generator CPU µs/call | calls |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...report.rows.map(
      (row) =>
        `| ${row.label} | ${fixed(row.requestsPerSecond, 0)} | ${fixed(row.p50Ms, 2)} | ${fixed(row.p99Ms, 2)} | ` +
        `${fixed(row.instanceCpuMicrosPerCall, 1)} | ${fixed(row.nginxCpuMicrosPerCall, 1)} | ${fixed(row.redisCpuMicrosPerCall, 1)} | ` +
        `${fixed(row.loadCpuMicrosPerCall, 1)} | ${row.requests} |`,
    ),
    "",
  ];
  const { twoVsOne } = report;
  lines.push(
    `2 instances vs 1 behind nginx: ${times(twoVsOne.rpsRatio)} the calls/s` +
      (twoVsOne.roundRpsRatios.length > 1 ? ` (median of rounds ${twoVsOne.roundRpsRatios.map((r) => times(r)).join(", ")})` : "") +
      `, ${times(twoVsOne.instanceCpuPerCallRatio)} the instances' CPU per call.`,
  );
  return lines.join("\n");
}
