// `npm run fuzz -- --cases N [--seed S] [--path P]`: fuzzes a real `toolwire serve` child with
// random HTTP/1.0, HTTP/1.1 and HTTP/2 requests (see fuzz-engine.ts) and prints the first failure
// with the command that replays it.
import { parseArgs } from "node:util";
import { describeFailure, mb, runFuzz } from "./fuzz-engine.js";

const usage = `Usage: npm run fuzz -- [--cases N] [--seed S] [--path P] [--batch B]

  --cases N   requests to send (default 20000)
  --seed S    fast-check seed (default random); printed with every failure
  --path P    replay only the batch at this fast-check path (with the failure's --seed)
  --batch B   requests sent at once (default 16)
  --all       log every new kind of failure and carry on (restarting a crashed server)`;

const { values } = parseArgs({
  options: { cases: { type: "string" }, seed: { type: "string" }, path: { type: "string" }, batch: { type: "string" }, all: { type: "boolean" }, help: { type: "boolean" } },
});
if (values.help === true) {
  console.log(usage);
  process.exit(0);
}
const whole = (value: string | undefined, name: string, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be a whole number, got "${value}"`);
  return n;
};
const seed = values.seed === undefined ? undefined : whole(values.seed, "seed", 0);
const report = await runFuzz({
  cases: whole(values.cases, "cases", 20_000),
  batchSize: whole(values.batch, "batch", 16),
  all: values.all === true,
  ...(seed === undefined ? {} : { seed }),
  ...(values.path === undefined ? {} : { path: values.path }),
  log: (line) => process.stderr.write(`[fuzz] ${line}\n`),
});
console.log(
  `${report.cases} cases in ${report.seconds.toFixed(1)} s (${Math.round(report.cases / report.seconds)}/s); ` +
    `${report.healthChecks} /health checks; server RSS ${mb(report.rss.start)} at start, ${mb(report.rss.max)} at most, ${mb(report.rss.end)} at the end`,
);
if (report.failure !== undefined) {
  console.log(describeFailure(report.failure));
  process.exitCode = 1;
}
