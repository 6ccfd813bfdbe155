/** Settings of one soak run. */
export interface SoakOptions {
  /** How long the open loop runs, in seconds. */
  readonly durationSeconds: number;
  /** Length of one report row: a minute, or 10 s for runs shorter than three minutes. */
  readonly windowSeconds: number;
  /** Calls per second of the open loop; undefined means {@link targetShare} of the measured capacity. */
  readonly rate: number | undefined;
  /** Seconds of the closed-loop burst that measures capacity (also the server's warm-up). */
  readonly capacitySeconds: number;
  /** Concurrent closed loops of that burst. */
  readonly capacityConcurrency: number;
  /** Print machine-readable JSON instead of the markdown table. */
  readonly json: boolean;
  /** Print usage and exit. */
  readonly help: boolean;
}

/** Share of the measured capacity the open loop runs at. */
export const targetShare = 0.8;

/** Runs at least this long have their RSS drift judged (minute 2 against the last). */
export const driftJudgedFromSeconds = 180;

/** Usage text of `npm run soak`. */
export const soakUsage = `Usage: npm run soak -- [--minutes M | --seconds S] [--rate R] [--json]

  Runs toolwire serve (monitoring on, an API key configured) and drives every surface at once:
  Connect JSON and binary, gRPC, gRPC-Web, MCP, CallToolStream, ListTools/GetTool, with
  WatchEvents and /events subscribers open. A closed-loop burst first measures capacity; the
  soak then sends calls on schedule (open loop) at ${targetShare * 100} % of it.

  --minutes M  soak length in minutes (default 10)
  --seconds S  soak length in seconds instead (CI, quick runs); rows are 10 s under 3 minutes
  --rate R     calls per second instead of ${targetShare * 100} % of the measured capacity
  --json       print machine-readable results on stdout (progress goes to stderr)
  --help       show this text

  Exits non-zero if any call or event stream failed or an event was missed, or (runs of 3
  minutes or more) if the server's RSS grew more than 5 % from minute 2 to the last minute.
  The baseline waits until the server's event replay buffer (10 000 events) is full: at low
  rates it fills for minutes, and that growth stops.`;

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got "${value}"`);
  return n;
}

/** Parses the command-line flags of `npm run soak`. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  let durationSeconds = 600;
  let rate: number | undefined;
  let json = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--json") json = true;
    else if (flag === "--help" || flag === "-h") help = true;
    else if (flag === "--minutes") durationSeconds = positive(value(), "--minutes") * 60;
    else if (flag === "--seconds") durationSeconds = positive(value(), "--seconds");
    else if (flag === "--rate") rate = positive(value(), "--rate");
    else throw new Error(`unknown argument "${arg}"\n\n${soakUsage}`);
  }
  return {
    durationSeconds,
    windowSeconds: durationSeconds >= driftJudgedFromSeconds ? 60 : 10,
    rate,
    capacitySeconds: 5,
    capacityConcurrency: 32,
    json,
    help,
  };
}
