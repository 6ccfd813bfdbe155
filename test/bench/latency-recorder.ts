/**
 * Collects response latencies (ms, fractional) so percentiles keep sub-millisecond resolution;
 * autocannon's own histogram rounds to whole milliseconds.
 */
export class LatencyRecorder {
  private values = new Float64Array(1 << 16);
  private count = 0;

  /** Adds one latency in milliseconds. */
  record(latencyMs: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = latencyMs;
  }

  /** The given percentiles (0–100) in milliseconds, nearest-rank; NaN when nothing was recorded. */
  percentiles(...ranks: readonly number[]): number[] {
    const sorted = this.values.slice(0, this.count).sort();
    return ranks.map((rank) => {
      if (sorted.length === 0) return Number.NaN;
      const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1));
      return sorted[index] ?? Number.NaN;
    });
  }
}
