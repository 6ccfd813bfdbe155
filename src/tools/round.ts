/** Rounds to two decimals: percentages and seconds read better without float noise. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
