/** Settings of one benchmark run. */
export interface BenchOptions {
  /** Measured seconds per server. */
  readonly durationSeconds: number;
  /** Warm-up seconds per server, before measuring. */
  readonly warmupSeconds: number;
  /**
   * Rounds over all servers, interleaved (A B C, A B C, …); the report takes medians, so drift of a
   * shared machine does not land on one server alone.
   */
  readonly rounds: number;
  /** Concurrent HTTP/1.1 connections of the load generator. */
  readonly connections: number;
  /** Print machine-readable JSON instead of the markdown table. */
  readonly json: boolean;
  /**
   * Measure the cluster setups instead (one instance with Redis directly, one and two behind
   * nginx) with the same load, durations and rounds.
   */
  readonly cluster: boolean;
  /** Print usage and exit. */
  readonly help: boolean;
}

/** Usage text of `npm run bench`. */
export const benchUsage = `Usage: npm run bench -- [--cluster] [--duration N] [--rounds N] [--quick] [--json]

  --duration N  measured seconds per server and round (default 10, or env BENCH_DURATION)
  --rounds N    interleaved rounds over all servers; medians are reported (default 3)
  --quick       one round of 3 s per server and a 1 s warm-up, for smoke runs
  --json        print machine-readable results on stdout (progress goes to stderr)
  --cluster     instead of the servers above, toolwire serve with a redis-server: one instance
                directly, one and two behind nginx (needs redis-server and nginx installed)
  --help        show this text`;

function positiveSeconds(value: string, source: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`${source} must be a positive number of seconds, got "${value}"`);
  return seconds;
}

function positiveInteger(value: string, source: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${source} must be a whole number of at least 1, got "${value}"`);
  return n;
}

/**
 * Parses command-line flags and environment. Duration precedence: --duration, then --quick, then
 * BENCH_DURATION, then 10 s.
 */
export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  let duration: number | undefined;
  let rounds: number | undefined;
  let quick = false;
  let json = false;
  let cluster = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--quick") quick = true;
    else if (arg === "--json") json = true;
    else if (arg === "--cluster") cluster = true;
    else if (arg === "--help" || arg === "-h") help = true;
    else if (arg === "--rounds") rounds = positiveInteger(argv[++i] ?? "", "--rounds");
    else if (arg.startsWith("--rounds=")) rounds = positiveInteger(arg.slice("--rounds=".length), "--rounds");
    else if (arg === "--duration") duration = positiveSeconds(argv[++i] ?? "", "--duration");
    else if (arg.startsWith("--duration=")) duration = positiveSeconds(arg.slice("--duration=".length), "--duration");
    else throw new Error(`unknown argument "${arg}"\n\n${benchUsage}`);
  }
  const fromEnv = env.BENCH_DURATION;
  const durationSeconds =
    duration ?? (quick ? 3 : fromEnv !== undefined && fromEnv !== "" ? positiveSeconds(fromEnv, "BENCH_DURATION") : 10);
  return { durationSeconds, rounds: rounds ?? (quick ? 1 : 3), warmupSeconds: quick ? 1 : 2, connections: 50, json, cluster, help };
}
