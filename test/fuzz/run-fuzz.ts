// `npm run fuzz -- --cases N [--seed S] [--path P]`: fuzzes a real `toolwire serve` child with
// random HTTP/1.0, HTTP/1.1 and HTTP/2 requests (see fuzz-engine.ts) and prints the first failure
// with the command that replays it.
import { parseArgs } from "node:util";
import { describeFailure, mb, runFuzz } from "./fuzz-engine.js";

const usage = `Usage: npm run fuzz -- [--cases N] [--seed S] [--path P] [--concurrency C] [--all]

  --cases N   requests to send (default 20000)
  --seed S    fast-check seed (default random); printed with every failure
  --path P    replay only case number P of the seed (with the failure's --seed)
  --concurrency C  requests in flight at once (default 24)
  --all       log every new kind of failure and carry on (restarting a crashed server)`;

const { values } = parseArgs({
  options: { cases: { type: "string" }, seed: { type: "string" }, path: { type: "string" }, concurrency: { type: "string" }, all: { type: "boolean" }, help: { type: "boolean" } },
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
  concurrency: whole(values.concurrency, "concurrency", 24),
  all: values.all === true,
  ...(seed === undefined ? {} : { seed }),
  ...(values.path === undefined ? {} : { path: whole(values.path, "path", 0) }),
  log: (line) => process.stderr.write(`[fuzz] ${line}\n`),
});
console.log(
  `${report.cases} cases in ${report.seconds.toFixed(1)} s (${Math.round(report.cases / report.seconds)}/s); ` +
    `server CPU ${report.serverCpuSeconds.toFixed(1)} s, fuzzer CPU ${(process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6).toFixed(1)} s; ` +
    `${report.healthChecks} /health checks; server RSS ${mb(report.rss.start)} at start, ${mb(report.rss.max)} at most, ${mb(report.rss.end)} at the end`,
);
if (report.failures.length > 0) {
  // With --all every failure was logged as it was found; the first is repeated here.
  console.log(describeFailure(report.failures[0]!));
  if (report.failures.length > 1) console.log(`(${report.failures.length} kinds of failure in all)`);
  process.exitCode = 1;
}
