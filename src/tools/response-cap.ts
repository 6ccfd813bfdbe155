/** stdout and stderr fitted into a response budget. */
export interface CappedOutput {
  readonly stdout: string;
  readonly stderr: string;
  /** stdout was cut to fit. */
  readonly stdoutCut: boolean;
  /** stderr was cut to fit. */
  readonly stderrCut: boolean;
}

/**
 * Cuts stdout and stderr (keeping their beginnings) so that together they cost at most
 * `maxBytes` in a JSON response, where each appears twice: as a JSON string in the structured
 * content, and again inside the JSON text of the text content. Escaping makes that cost up to
 * 13 bytes per byte of output (a control byte becomes `\u0001`, then `\\u0001`), which is how
 * 2 MiB of output once became a 27 MB response. A stream that fits in half the budget keeps it
 * whole and the other gets the rest.
 */
export function capOutput(stdout: string, stderr: string, maxBytes: number): CappedOutput {
  const outCost = responseCost(stdout);
  const errCost = responseCost(stderr);
  if (outCost + errCost <= maxBytes) return { stdout, stderr, stdoutCut: false, stderrCut: false };
  const half = Math.floor(maxBytes / 2);
  const outBudget = errCost <= half ? maxBytes - errCost : outCost <= half ? outCost : half;
  const errBudget = errCost <= half ? errCost : maxBytes - Math.min(outCost, outBudget);
  const out = prefixWithin(stdout, outBudget);
  const err = prefixWithin(stderr, errBudget);
  return { stdout: out, stderr: err, stdoutCut: out.length < stdout.length, stderrCut: err.length < stderr.length };
}

/** What `text` costs in a response, in bytes: its JSON string plus that string escaped again. */
export function responseCost(text: string): number {
  let cost = 0;
  for (let i = 0; i < text.length; i++) {
    const step = charCost(text, i);
    cost += step.cost;
    i += step.units - 1;
  }
  return cost;
}

/** The longest prefix of `text` (whole characters) costing at most `budget`. */
function prefixWithin(text: string, budget: number): string {
  let cost = 0;
  let i = 0;
  while (i < text.length) {
    const step = charCost(text, i);
    if (cost + step.cost > budget) break;
    cost += step.cost;
    i += step.units;
  }
  return text.slice(0, i);
}

/**
 * The cost of the character at `i` (once in JSON, once more escaped) and how many UTF-16 units
 * it spans. JSON.stringify writes `"` and `\` as 2 bytes (4 escaped again), \b \f \n \r \t as 2
 * (3 again), other control characters and lone surrogates as 6 (7 again), and anything else as
 * its UTF-8 bytes (the same again).
 */
function charCost(text: string, i: number): { cost: number; units: number } {
  const c = text.charCodeAt(i);
  if (c === 0x22 || c === 0x5c) return { cost: 6, units: 1 };
  if (c === 0x08 || c === 0x0c || c === 0x0a || c === 0x0d || c === 0x09) return { cost: 5, units: 1 };
  if (c < 0x20) return { cost: 13, units: 1 };
  if (c < 0x80) return { cost: 2, units: 1 };
  if (c < 0x800) return { cost: 4, units: 1 };
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    return next >= 0xdc00 && next <= 0xdfff ? { cost: 8, units: 2 } : { cost: 13, units: 1 };
  }
  if (c >= 0xdc00 && c <= 0xdfff) return { cost: 13, units: 1 };
  return { cost: 6, units: 1 };
}
