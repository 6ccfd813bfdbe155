import { cpus } from "node:os";
import type { BenchOptions } from "./bench-options.js";
import type { ServerKind } from "./bench-targets.js";
import type { TargetMeasurement } from "./measure-target.js";

/** Highest acceptable toolwire CPU per call, as a multiple of bare connect-node's. */
export const cpuRatioTarget = 1.15;

/** Highest acceptable CPU per MCP tools/call of toolwire's /mcp, as a multiple of the MCP SDK's own stateless server's. */
export const mcpCpuRatioTarget = 1;

/** One row of the report. */
export interface BenchRow {
  readonly kind: ServerKind;
  readonly label: string;
  readonly requests: number;
  readonly elapsedSeconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerCall: number;
  /** CPU per call divided by bare connect-node's (null if that was not measured). */
  readonly cpuRatioVsBareConnect: number | null;
  /** Requests per second divided by bare node:http's (null if that was not measured). */
  readonly rpsRatioVsBareHttp: number | null;
}

/** The whole result of a benchmark run, as printed by `--json`. */
export interface BenchReport {
  readonly environment: { readonly node: string; readonly cpu: string; readonly cores: number };
  readonly settings: {
    readonly durationSeconds: number;
    readonly warmupSeconds: number;
    readonly connections: number;
    readonly rounds: number;
  };
  /** Medians over the rounds, one row per server. */
  readonly rows: readonly BenchRow[];
  /** The toolwire / bare connect-node CPU ratio of each round; the target uses their median. */
  readonly target: {
    readonly description: string;
    readonly maxRatio: number;
    readonly ratio: number | null;
    readonly roundRatios: readonly number[];
    readonly met: boolean | null;
  };
  /**
   * What events and metrics cost: CPU µs per call of toolwire with the monitoring extension minus
   * plain toolwire, per round (median), with no event subscriber and with ten.
   */
  readonly monitoringCost: {
    readonly noSubscribersMicrosPerCall: number | null;
    readonly tenSubscribersMicrosPerCall: number | null;
  };
  /** What the security stages cost: CPU µs per call of toolwire with an API key and a per-caller limit minus plain toolwire. */
  readonly securityCost: { readonly microsPerCall: number | null };
  /** The toolwire /mcp / MCP SDK server CPU ratio of each round (median decides), and their requests/s ratio. */
  readonly mcpTarget: {
    readonly description: string;
    readonly maxRatio: number;
    readonly ratio: number | null;
    readonly roundRatios: readonly number[];
    readonly rpsRatio: number | null;
    readonly met: boolean | null;
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The machine a bench runs on: Node version, CPU model and core count. */
export function benchEnvironment(): { readonly node: string; readonly cpu: string; readonly cores: number } {
  const cpu = cpus();
  return { node: process.version, cpu: cpu[0]?.model ?? "unknown", cores: cpu.length };
}

/** Where and how a bench ran, for the head of its report. */
export function benchRunInfo<Versions extends Readonly<Record<string, string>>>(options: BenchOptions, versions?: Versions) {
  return {
    environment: { ...benchEnvironment(), ...(versions as Versions) },
    settings: {
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
      rounds: options.rounds,
    },
  };
}

/** One server's rounds folded into one: the median of each figure, requests added up. */
function combineRounds(rounds: readonly TargetMeasurement[]): TargetMeasurement {
  const first = rounds[0] as TargetMeasurement;
  const pick = (f: (m: TargetMeasurement) => number) => median(rounds.map(f));
  return {
    target: first.target,
    requests: rounds.reduce((sum, m) => sum + m.requests, 0),
    elapsedSeconds: rounds.reduce((sum, m) => sum + m.elapsedSeconds, 0),
    requestsPerSecond: pick((m) => m.requestsPerSecond),
    p50Ms: pick((m) => m.p50Ms),
    p99Ms: pick((m) => m.p99Ms),
    cpuMicros: rounds.reduce((sum, m) => sum + m.cpuMicros, 0),
    cpuMicrosPerCall: pick((m) => m.cpuMicrosPerCall),
  };
}

/**
 * Derives ratios and the target verdict from the measurements (in the order taken: round by
 * round). The verdict uses the median of per-round ratios, each comparing servers measured
 * minutes apart rather than a whole run apart.
 */
export function buildBenchReport(all: readonly TargetMeasurement[], options: BenchOptions): BenchReport {
  const kinds = [...new Set(all.map((m) => m.target.kind))];
  const measurements = kinds.map((kind) => combineRounds(all.filter((m) => m.target.kind === kind)));
  const byKind = (kind: ServerKind) => measurements.find((m) => m.target.kind === kind);
  const bareHttp = byKind("bare-http");
  const bareConnect = byKind("bare-connect");
  const toolwireRounds = all.filter((m) => m.target.kind === "toolwire");
  const bareConnectRounds = all.filter((m) => m.target.kind === "bare-connect");
  const roundRatios = toolwireRounds.flatMap((m, i) => {
    const base = bareConnectRounds[i];
    return base ? [m.cpuMicrosPerCall / base.cpuMicrosPerCall] : [];
  });
  const rows = measurements.map(
    (m): BenchRow => ({
      kind: m.target.kind,
      label: m.target.label,
      requests: m.requests,
      elapsedSeconds: m.elapsedSeconds,
      requestsPerSecond: m.requestsPerSecond,
      p50Ms: m.p50Ms,
      p99Ms: m.p99Ms,
      cpuMicrosPerCall: m.cpuMicrosPerCall,
      cpuRatioVsBareConnect: bareConnect ? m.cpuMicrosPerCall / bareConnect.cpuMicrosPerCall : null,
      rpsRatioVsBareHttp: bareHttp ? m.requestsPerSecond / bareHttp.requestsPerSecond : null,
    }),
  );
  const ratio = roundRatios.length > 0 ? median(roundRatios) : null;
  const mcpRounds = all.filter((m) => m.target.kind === "toolwire-mcp");
  const sdkRounds = all.filter((m) => m.target.kind === "mcp-sdk");
  const mcpRoundRatios = mcpRounds.flatMap((m, i) => {
    const base = sdkRounds[i];
    return base ? [m.cpuMicrosPerCall / base.cpuMicrosPerCall] : [];
  });
  const mcpRatio = mcpRoundRatios.length > 0 ? median(mcpRoundRatios) : null;
  const toolwireMcp = byKind("toolwire-mcp");
  const mcpSdk = byKind("mcp-sdk");
  const costOver = (kind: ServerKind): number | null => {
    const deltas = all
      .filter((m) => m.target.kind === kind)
      .flatMap((m, i) => {
        const base = toolwireRounds[i];
        return base ? [m.cpuMicrosPerCall - base.cpuMicrosPerCall] : [];
      });
    return deltas.length > 0 ? median(deltas) : null;
  };
  return {
    ...benchRunInfo(options),
    rows,
    target: {
      description: `toolwire CPU/call ≤ ${cpuRatioTarget}× bare connect-node`,
      maxRatio: cpuRatioTarget,
      ratio,
      roundRatios,
      met: ratio === null ? null : ratio <= cpuRatioTarget,
    },
    monitoringCost: {
      noSubscribersMicrosPerCall: costOver("toolwire-monitoring"),
      tenSubscribersMicrosPerCall: costOver("toolwire-monitoring-10"),
    },
    securityCost: { microsPerCall: costOver("toolwire-secured") },
    mcpTarget: {
      description: `toolwire /mcp CPU/call ≤ ${mcpCpuRatioTarget}× the MCP SDK's own stateless server`,
      maxRatio: mcpCpuRatioTarget,
      ratio: mcpRatio,
      roundRatios: mcpRoundRatios,
      rpsRatio: toolwireMcp && mcpSdk ? toolwireMcp.requestsPerSecond / mcpSdk.requestsPerSecond : null,
      met: mcpRatio === null ? null : mcpRatio <= mcpCpuRatioTarget,
    },
  };
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const times = (ratio: number | null) => (ratio === null ? "n/a" : `${ratio.toFixed(2)}×`);

/** Renders the report as a markdown table plus the target verdict line. */
export function formatBenchReport(report: BenchReport): string {
  const { environment: env, settings } = report;
  const lines = [
    `Node ${env.node}, ${env.cores} × ${env.cpu}; HTTP/1.1, ${settings.connections} connections, ` +
      `${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s measured per server, one server at a time, ` +
      `${settings.rounds} interleaved round${settings.rounds === 1 ? "" : "s"} (medians).`,
    "",
    "| server | requests/s | p50 ms | p99 ms | CPU µs/call | CPU ratio vs bare connect-node | rps ratio vs bare node:http | requests |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...report.rows.map(
      (row) =>
        `| ${row.label} | ${fixed(row.requestsPerSecond, 0)} | ${fixed(row.p50Ms, 2)} | ${fixed(row.p99Ms, 2)} | ` +
        `${fixed(row.cpuMicrosPerCall, 1)} | ${times(row.cpuRatioVsBareConnect)} | ${times(row.rpsRatioVsBareHttp)} | ${row.requests} |`,
    ),
    "",
  ];
  const { target } = report;
  lines.push(
    target.met === null
      ? `Target "${target.description}": not evaluated (missing measurement).`
      : `Target "${target.description}": ${target.met ? "MET" : "NOT MET"} (toolwire is ${times(target.ratio)}` +
          (target.roundRatios.length > 1 ? `, median of rounds ${target.roundRatios.map((r) => times(r)).join(", ")}).` : ")."),
  );
  const { monitoringCost } = report;
  const micros = (value: number | null) => (value === null ? "n/a" : `${value.toFixed(1)} µs`);
  lines.push(
    `Monitoring (events, stats, metrics) costs ${micros(monitoringCost.noSubscribersMicrosPerCall)} CPU per call with no event ` +
      `subscriber and ${micros(monitoringCost.tenSubscribersMicrosPerCall)} with 10 (over plain toolwire, median of rounds).`,
  );
  lines.push(
    `Security (API key check and per-caller rate limit) costs ${micros(report.securityCost.microsPerCall)} CPU per call ` +
      "(over plain toolwire, median of rounds).",
  );
  const { mcpTarget } = report;
  lines.push(
    mcpTarget.met === null
      ? `Target "${mcpTarget.description}": not evaluated (missing measurement).`
      : `Target "${mcpTarget.description}": ${mcpTarget.met ? "MET" : "NOT MET"} (toolwire /mcp is ${times(mcpTarget.ratio)} the SDK's CPU per call` +
          (mcpTarget.roundRatios.length > 1 ? `, median of rounds ${mcpTarget.roundRatios.map((r) => times(r)).join(", ")}` : "") +
          `; ${times(mcpTarget.rpsRatio)} its requests/s).`,
  );
  return lines.join("\n");
}
