/**
 * Commander's rule for mistyped commands (at most two edits, a swap of neighbours counting as
 * one, and more than 40 % of the longer word left intact), stricter for short words: two edits
 * turn "root" into "boom" and "ops" into "open", guesses that mislead more than they help.
 */
const maxEdits = 2;
const shortWordLength = 5;
const minSimilarity = 0.4;
// Names longer than any tool name or config key are not typos of one, and the distance costs
// length squared: a megabyte-long name must not buy a megabyte-squared loop.
const maxWordLength = 128;

/**
 * The candidate closest to `word` by edit distance, or undefined when none is close enough to be
 * a likely typo. Ties go to the alphabetically first candidate, so the answer is stable.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > maxWordLength) return undefined;
  let best: string | undefined;
  let bestDistance = (word.length <= shortWordLength ? 1 : maxEdits) + 1;
  for (const candidate of candidates) {
    if (candidate.length <= 1 || candidate === word) continue;
    const distance = editDistance(word, candidate);
    const length = Math.max(word.length, candidate.length);
    if ((length - distance) / length <= minSimilarity) continue;
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean "x"?` for the closest candidate, or "" when none is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? "" : `; did you mean ${JSON.stringify(match)}?`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > maxEdits) return Math.max(a.length, b.length);
  // Rows i-2, i-1 and i of the usual matrix; a swap looks two rows back.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current[j] = d;
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}
