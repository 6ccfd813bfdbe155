// `npm run bench`: CPU cost per call of Toolwire's pipeline against bare node:http and bare
// connect-node. Each server runs in its own child, loaded by autocannon from another child, one
// server at a time; see bench-options.ts for flags. `--cluster` measures Redis and nginx setups
// instead (cluster-bench.ts).
import { benchUsage, parseBenchOptions } from "./bench-options.js";
import { buildBenchReport, formatBenchReport } from "./bench-report.js";
import { benchTargets } from "./bench-targets.js";
import { killAllChildrenNow, stopAllChildren } from "./child-processes.js";
import { measureTarget, type TargetMeasurement } from "./measure-target.js";

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

let interruptedBy: NodeJS.Signals | undefined;

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2), process.env);
  if (options.help) {
    console.log(benchUsage);
    return;
  }
  if (options.cluster) {
    // Loaded only here, so the plain bench imports nothing of the cluster's.
    const { formatClusterBenchReport, runClusterBench } = await import("./cluster-bench.js");
    const report = await runClusterBench(options, log);
    console.log(options.json ? JSON.stringify(report, null, 2) : formatClusterBenchReport(report));
    return;
  }
  const measurements: TargetMeasurement[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) log(`round ${round} of ${options.rounds}`);
    for (const target of benchTargets) {
      measurements.push(await measureTarget(target, options, log));
    }
  }
  const report = buildBenchReport(measurements, options);
  console.log(options.json ? JSON.stringify(report, null, 2) : formatBenchReport(report));
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  process.once(signal, () => {
    interruptedBy = signal;
    log(`${signal}: stopping children`);
    void stopAllChildren().finally(() => process.exit(code));
  });
}
process.once("exit", killAllChildrenNow);

try {
  await main();
} catch (error) {
  if (interruptedBy === undefined) {
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
} finally {
  await stopAllChildren();
}
