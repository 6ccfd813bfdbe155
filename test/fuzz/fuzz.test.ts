import { describe, expect, it } from "vitest";
import { describeFailure, mb, runFuzz } from "./fuzz-engine.js";

// FUZZ_CASES sets the count (default 20 000, under 90 s on two free cores). The seed is fixed
// (FUZZ_SEED, default 1) so that npm test answers the same for the same code: exploring new
// inputs is `npm run fuzz`'s job, which draws a fresh seed each run.
const cases = Number(process.env.FUZZ_CASES ?? 20_000);
const seed = Number(process.env.FUZZ_SEED ?? 1);

describe("fuzzing a live toolwire serve", () => {
  it(
    "answers every random request in the shape of its surface, never with internal, and stays up within its memory",
    async () => {
      const report = await runFuzz({ cases, seed });
      const failure = report.failures[0];
      // The seed, the failing request and the replay command, as the failure message.
      expect(failure === undefined ? "" : describeFailure(failure)).toBe("");
      expect(report.cases).toBe(cases);
      console.log(
        `fuzz: ${report.cases} cases in ${report.seconds.toFixed(1)} s; server RSS ${mb(report.rss.start)} → at most ${mb(report.rss.max)}`,
      );
    },
    // Generous on a shared machine: the count, not this limit, bounds the run.
    Math.max(60_000, cases * 30),
  );
});
