import os from "node:os";
import {
  monitorResourcesTool,
  type MonitorResourcesOutput,
  type ResourceSample,
} from "../../gen/tools/monitor_resources.js";
import { defineTool } from "../registry/define-tool.js";
import { delay } from "./delay.js";
import { round2 } from "./round.js";

/**
 * The `monitor_resources` tool: samples CPU, memory and load once per interval, streams each
 * sample, and returns averages and peaks. Stops at once when the call is aborted.
 */
export const monitorResources = defineTool(monitorResourcesTool, async (input, ctx): Promise<MonitorResourcesOutput> => {
  const duration = input.duration ?? 5;
  // An interval longer than the run would mean one sample taken after the run should have ended.
  const interval = Math.min(input.interval ?? 1, duration);
  // The epsilon keeps 1 / 0.2 from becoming 4.999… samples.
  const total = Math.max(1, Math.floor(duration / interval + 1e-9));
  const samples: ResourceSample[] = [];
  const started = performance.now();
  let previous = cpuTimes();
  for (let index = 1; index <= total; index++) {
    // Aim at fixed points in time so the work of sampling does not stretch the run.
    const wait = Math.max(0, started + index * interval * 1000 - performance.now());
    await delay(wait, ctx.signal);
    const current = cpuTimes();
    const sample = takeSample(index, previous, current);
    previous = current;
    samples.push(sample);
    ctx.progress(index, total, `sample ${index}/${total}: cpu ${sample.cpuPercent}%, memory ${sample.memoryPercent}%`);
    ctx.partial([{ type: "text", text: JSON.stringify(sample) }]);
  }
  return {
    samples: samples.length,
    durationSeconds: Math.round(performance.now() - started) / 1000,
    interval,
    average: {
      cpuPercent: round2(mean(samples.map((s) => s.cpuPercent))),
      memoryPercent: round2(mean(samples.map((s) => s.memoryPercent))),
    },
    peak: {
      cpuPercent: Math.max(...samples.map((s) => s.cpuPercent)),
      memoryPercent: Math.max(...samples.map((s) => s.memoryPercent)),
    },
    samplesData: samples,
  };
});

/** Busy and total CPU time summed over every logical CPU, in milliseconds. */
interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

function takeSample(index: number, before: CpuTimes, after: CpuTimes): ResourceSample {
  const totalDelta = after.total - before.total;
  // No CPU time elapsed (coarse counters, very short interval): report idle rather than NaN.
  const cpuPercent = totalDelta > 0 ? clampPercent(((after.busy - before.busy) / totalDelta) * 100) : 0;
  const memoryTotal = os.totalmem();
  const memoryUsed = Math.max(0, memoryTotal - os.freemem());
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return {
    index,
    timestamp: new Date().toISOString(),
    cpuPercent,
    memoryPercent: memoryTotal > 0 ? clampPercent((memoryUsed / memoryTotal) * 100) : 0,
    memoryUsedBytes: memoryUsed,
    loadAverage: [round2(one), round2(five), round2(fifteen)],
  };
}

function clampPercent(n: number): number {
  return round2(Math.min(100, Math.max(0, n)));
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
