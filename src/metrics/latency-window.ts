/** Percentiles and summary figures of a set of durations, in milliseconds. */
export interface LatencySummary {
  /** Median (nearest rank). */
  readonly p50: number;
  /** 95th percentile (nearest rank). */
  readonly p95: number;
  /** 99th percentile (nearest rank). */
  readonly p99: number;
  /** Arithmetic mean. */
  readonly mean: number;
  /** Slowest. */
  readonly max: number;
  /** Durations the figures are computed from. */
  readonly count: number;
}

/**
 * The newest `capacity` durations of one tool. Percentiles are exact over the window (nearest
 * rank on a sorted copy, computed only when asked), so a test with known latencies can check
 * them, and memory stays fixed however many calls there are.
 */
export class LatencyWindow {
  private readonly buffer: Float64Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`latency window must hold at least 1 value, got ${capacity}`);
    this.buffer = new Float64Array(capacity);
  }

  /** Adds one duration, replacing the oldest once the window is full. */
  record(ms: number): void {
    this.buffer[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Durations held now. */
  get count(): number {
    return this.size;
  }

  /** The durations held, in no particular order. */
  values(): number[] {
    return Array.from(this.buffer.subarray(0, this.size));
  }

  /** The summary of the durations held; all zero when there are none. */
  summary(): LatencySummary {
    return summarizeLatency(this.buffer.slice(0, this.size).sort());
  }
}

/** The summary of durations sorted ascending (of one window, or merged from several); all zero when empty. */
export function summarizeLatency(sorted: ArrayLike<number>): LatencySummary {
  if (sorted.length === 0) return { p50: 0, p95: 0, p99: 0, mean: 0, max: 0, count: 0 };
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number;
  return {
    p50: nearestRank(sorted, 50),
    p95: nearestRank(sorted, 95),
    p99: nearestRank(sorted, 99),
    mean: sum / sorted.length,
    max: sorted[sorted.length - 1] as number,
    count: sorted.length,
  };
}

/** The smallest value with at least `percent` % of the values at or below it. */
export function nearestRank(sorted: ArrayLike<number>, percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[rank - 1] as number;
}
