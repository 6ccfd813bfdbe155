import { benchEnvironment, median } from "./bench-report.js";
import type { CapacityMeasurement, DriverWindow } from "./soak-driver.js";
import { driftJudgedFromSeconds, targetShare, type SoakOptions } from "./soak-options.js";
import { surfaceNames, type SurfaceName } from "./soak-surfaces.js";
import type { SubscriberCounts } from "./subscriber-tally.js";

/** Highest acceptable growth of the server's RSS from minute 2 to the last minute. */
export const maxRssDrift = 0.05;

/** One row of the soak report: one window of the open loop. */
export interface SoakWindow extends DriverWindow {
  /** 1-based. */
  readonly index: number;
  /** Seconds since the open loop started, at the window's end. */
  readonly endSeconds: number;
  readonly callsPerSecond: number;
  /** Median of the server's RSS samples in the window (one a second), in bytes. */
  readonly rssBytes: number;
  /** The server's V8 heap in use at the window's end, from its /metrics (null if not there). */
  readonly heapUsedBytes: number | null;
  /** Share of one core the server used, in percent. */
  readonly serverCpuPercent: number;
  /** Share of one core the driver (every client) used, in percent. */
  readonly driverCpuPercent: number;
  /** What the event streams received in the window (events, cut-offs, gaps and failures). */
  readonly subscribers: SubscriberCounts;
}

/** The capacity burst, and the share of one core (percent) the server and the driver used in it. */
export interface Capacity extends CapacityMeasurement {
  readonly serverCpuPercent: number;
  readonly driverCpuPercent: number;
}

/** One RSS sample of the server. */
export interface RssSample {
  /** Seconds since the open loop started. */
  readonly seconds: number;
  readonly bytes: number;
}

/** The whole result of a soak run, as printed by `--json`. */
export interface SoakReport {
  readonly environment: { readonly node: string; readonly cpu: string; readonly cores: number };
  readonly settings: { readonly durationSeconds: number; readonly windowSeconds: number; readonly rate: number; readonly rateSource: string };
  readonly capacity: Capacity;
  readonly surfaces: Readonly<Record<SurfaceName, string>>;
  readonly windows: readonly SoakWindow[];
  readonly totals: {
    readonly calls: number;
    readonly errors: number;
    readonly firstErrors: readonly string[];
    readonly skipped: number;
    readonly subscribers: SubscriberCounts;
    /** Lines the server wrote (it logs at warn and above). */
    readonly serverLogLines: readonly string[];
  };
  readonly drift: {
    /** Whether the run was long enough for the drift to decide the verdict. */
    readonly judged: boolean;
    /** Which windows were compared, or why none were. */
    readonly why: string;
    readonly baselineWindow: number | null;
    readonly baselineBytes: number | null;
    readonly lastBytes: number | null;
    /** (last − baseline) / baseline. */
    readonly ratio: number | null;
    /** Least-squares slope of every RSS sample after the first minute, in bytes per minute. */
    readonly slopeBytesPerMinute: number | null;
    readonly max: number;
  };
  readonly verdict: { readonly passed: boolean; readonly line: string };
}

/** Adds up subscriber counts (firstErrors: the first few of all). */
export function addCounts(a: SubscriberCounts, b: SubscriberCounts): SubscriberCounts {
  return {
    events: a.events + b.events,
    cutOff: a.cutOff + b.cutOff,
    missed: a.missed + b.missed,
    errors: a.errors + b.errors,
    firstErrors: [...a.firstErrors, ...b.firstErrors].slice(0, 5),
  };
}

/** The counts between two readings of the cumulative ones. */
export function countsSince(now: SubscriberCounts, before: SubscriberCounts): SubscriberCounts {
  return {
    events: now.events - before.events,
    cutOff: now.cutOff - before.cutOff,
    missed: now.missed - before.missed,
    errors: now.errors - before.errors,
    firstErrors: now.firstErrors.slice(before.firstErrors.length),
  };
}

/**
 * Events the server's replay buffer holds (monitoring's default `replayBufferSize`). Until that
 * many were published the buffer is still filling, by about 1.5 KB of heap per event (measured: heap after a full GC grew 13 MB over the first 9 000 events, then stayed flat): growth that
 * stops, so the drift baseline waits for it.
 */
export const replayBufferEvents = 10_000;

/**
 * The RSS drift from the baseline window (the first after the first minute, once the replay buffer
 * is full) to the last window, and the least-squares slope of the samples after the first minute.
 */
function rssDrift(windows: readonly SoakWindow[], samples: readonly RssSample[], options: SoakOptions, eventStreams: number): SoakReport["drift"] {
  const warm = samples.filter((s) => s.seconds >= 60);
  let slope: number | null = null;
  if (warm.length >= 2) {
    const meanT = warm.reduce((sum, s) => sum + s.seconds, 0) / warm.length;
    const meanB = warm.reduce((sum, s) => sum + s.bytes, 0) / warm.length;
    const num = warm.reduce((sum, s) => sum + (s.seconds - meanT) * (s.bytes - meanB), 0);
    const den = warm.reduce((sum, s) => sum + (s.seconds - meanT) ** 2, 0);
    slope = den > 0 ? (num / den) * 60 : null;
  }
  // Every stream is unfiltered, so each saw every event: published = received / streams.
  let published = 0;
  const baseline = windows.find((w) => {
    const eligible = w.endSeconds - w.seconds >= 60 - 1 && published >= replayBufferEvents;
    published += w.subscribers.events / eventStreams;
    return eligible;
  });
  const last = windows.at(-1);
  const usable = baseline !== undefined && last !== undefined && last.index > baseline.index;
  const long = options.durationSeconds >= driftJudgedFromSeconds;
  return {
    judged: long && usable,
    why: usable
      ? long
        ? `window ${baseline.index} → ${last.index}, limit ${maxRssDrift * 100} %`
        : `window ${baseline.index} → ${last.index}, not judged under ${driftJudgedFromSeconds / 60} minutes`
      : windows.filter((w) => w.endSeconds - w.seconds >= 60 - 1).length < 2
        ? "not measured: no two windows after the first minute"
        : `not judged: the replay buffer was still filling (${replayBufferEvents} events) until the last window`,
    baselineWindow: usable ? baseline.index : null,
    baselineBytes: usable ? baseline.rssBytes : null,
    lastBytes: usable ? last.rssBytes : null,
    ratio: usable ? (last.rssBytes - baseline.rssBytes) / baseline.rssBytes : null,
    slopeBytesPerMinute: slope,
    max: maxRssDrift,
  };
}

const mb = (bytes: number | null) => (bytes === null || !Number.isFinite(bytes) ? "n/a" : (bytes / 1024 / 1024).toFixed(1));
const percent = (ratio: number | null) => (ratio === null ? "n/a" : `${ratio >= 0 ? "+" : ""}${(ratio * 100).toFixed(1)} %`);

/** Folds the windows into totals, the RSS drift and the verdict. */
export function buildSoakReport(input: {
  readonly options: SoakOptions;
  readonly capacity: Capacity;
  readonly rate: number;
  readonly surfaces: Readonly<Record<SurfaceName, string>>;
  readonly windows: readonly SoakWindow[];
  readonly samples: readonly RssSample[];
  readonly serverLogLines: readonly string[];
  /** Event streams the subscribers held open (each sees every event). */
  readonly eventStreams: number;
}): SoakReport {
  const { options, windows } = input;
  const none: SubscriberCounts = { events: 0, cutOff: 0, missed: 0, errors: 0, firstErrors: [] };
  const totals = {
    calls: windows.reduce((sum, w) => sum + w.calls, 0),
    errors: windows.reduce((sum, w) => sum + w.errors, 0),
    firstErrors: windows.flatMap((w) => w.firstErrors).slice(0, 10),
    skipped: windows.reduce((sum, w) => sum + w.skipped, 0),
    subscribers: windows.reduce((sum, w) => addCounts(sum, w.subscribers), none),
    serverLogLines: input.serverLogLines,
  };
  const drift = rssDrift(windows, input.samples, options, input.eventStreams);
  const failures = [
    ...(totals.errors > 0 ? [`${totals.errors} calls failed`] : []),
    ...(totals.subscribers.errors > 0 ? [`${totals.subscribers.errors} event stream failures`] : []),
    ...(totals.subscribers.missed > 0 ? [`${totals.subscribers.missed} events missed by the streams`] : []),
    ...(drift.judged && drift.ratio !== null && drift.ratio > maxRssDrift ? [`RSS drift ${percent(drift.ratio)} > ${maxRssDrift * 100} %`] : []),
  ];
  const driftText =
    drift.ratio === null
      ? `RSS drift ${drift.why}`
      : `RSS ${mb(drift.baselineBytes)} → ${mb(drift.lastBytes)} MB (${percent(drift.ratio)}, ${drift.why})`;
  const notes = [
    ...(totals.skipped > 0 ? [`${totals.skipped} calls skipped: more than the in-flight cap were waiting`] : []),
    ...(totals.subscribers.cutOff > 0 ? [`event streams cut off ${totals.subscribers.cutOff} times for falling behind (resumed)`] : []),
  ];
  const line =
    `Soak ${failures.length === 0 ? "PASSED" : "FAILED"}: ${totals.calls} calls in ${options.durationSeconds} s at ${input.rate.toFixed(0)}/s, ` +
    `${totals.errors} errors, ${totals.subscribers.events} events streamed; ${driftText}` +
    (failures.length > 0 ? `. Failed: ${failures.join("; ")}` : "") +
    (notes.length > 0 ? `. Note: ${notes.join("; ")}` : "") +
    ".";
  return {
    environment: benchEnvironment(),
    settings: {
      durationSeconds: options.durationSeconds,
      windowSeconds: options.windowSeconds,
      rate: input.rate,
      rateSource: options.rate === undefined ? `${targetShare * 100} % of the measured capacity` : "--rate",
    },
    capacity: input.capacity,
    surfaces: input.surfaces,
    windows,
    totals,
    drift,
    verdict: { passed: failures.length === 0, line },
  };
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;

/** The header of the window table (markdown). */
export function soakTableHeader(): string {
  return [
    `| until | calls/s | ${surfaceNames.join(" | ")} | errors | p50 ms | p99 ms | stream p50 ms | server RSS MB | heap MB | server CPU % | driver CPU % | events/s |`,
    `|---|---:|${surfaceNames.map(() => "---:").join("|")}|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ].join("\n");
}

/** One window as a row of the table. */
export function soakTableRow(w: SoakWindow): string {
  return (
    `| ${clock(w.endSeconds)} | ${fixed(w.callsPerSecond, 0)} | ${surfaceNames.map((name) => w.bySurface[name].calls).join(" | ")} | ` +
    `${w.errors + w.subscribers.errors + w.subscribers.missed} | ${fixed(w.p50Ms, 2)} | ${fixed(w.p99Ms, 2)} | ${fixed(w.bySurface.stream.p50Ms, 0)} | ` +
    `${mb(w.rssBytes)} | ${mb(w.heapUsedBytes)} | ${fixed(w.serverCpuPercent, 0)} | ${fixed(w.driverCpuPercent, 0)} | ${fixed(w.subscribers.events / w.seconds, 0)} |`
  );
}

/** The lines that follow the table: errors by window, the server's log, the drift and the verdict. */
export function soakSummary(report: SoakReport): string {
  const lines: string[] = [""];
  for (const w of report.windows) {
    const messages = [...w.firstErrors, ...w.subscribers.firstErrors, ...(w.subscribers.missed > 0 ? [`event streams missed ${w.subscribers.missed} events`] : [])];
    if (messages.length > 0) lines.push(`Window ${w.index} (until ${clock(w.endSeconds)}) errors:`, ...messages.map((m) => `  - ${m}`));
  }
  if (report.totals.serverLogLines.length > 0) {
    lines.push(`The server logged ${report.totals.serverLogLines.length} lines at warn or above; the first:`, ...report.totals.serverLogLines.slice(0, 5).map((l) => `  ${l}`));
  }
  const { drift } = report;
  lines.push(
    `RSS slope after the first minute: ${drift.slopeBytesPerMinute === null ? "n/a" : `${mb(drift.slopeBytesPerMinute)} MB/min`}; ` +
      `stream calls (1 s each) p99 ${fixed(median(report.windows.map((w) => w.bySurface.stream.p99Ms).filter(Number.isFinite)), 0)} ms (median over windows).`,
    report.verdict.line,
  );
  return lines.join("\n");
}

/** The head of the text report: environment, capacity and rate. */
export function soakHeading(report: Pick<SoakReport, "environment" | "settings" | "capacity" | "surfaces">): string {
  const { environment: env, settings, capacity } = report;
  return [
    `Node ${env.node}, ${env.cores} × ${env.cpu}. toolwire serve with monitoring and an API key; driver, subscribers and server in separate processes.`,
    `Capacity: ${fixed(capacity.callsPerSecond, 0)} calls/s (closed loop, ${fixed(capacity.seconds, 1)} s, quick surfaces; ` +
      `server ${fixed(capacity.serverCpuPercent, 0)} %, driver ${fixed(capacity.driverCpuPercent, 0)} % of a core). ` +
      `Open loop at ${fixed(settings.rate, 0)} calls/s (${settings.rateSource}) for ${settings.durationSeconds} s, rows of ${settings.windowSeconds} s; latency counts from the scheduled send time.`,
    ...surfaceNames.map((name) => `- ${name}: ${report.surfaces[name]}`),
    "",
    soakTableHeader(),
  ].join("\n");
}
