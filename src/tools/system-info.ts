import { statfs } from "node:fs/promises";
import os from "node:os";
import { systemInfoTool, type SystemInfoInput, type SystemInfoOutput } from "../../gen/tools/system_info.js";
import { defineTool } from "../registry/define-tool.js";
import { round2 } from "./round.js";
import type { ToolContext } from "../registry/tool-context.js";

type Section = NonNullable<SystemInfoInput["sections"]>[number];

const allSections: readonly Section[] = ["os", "cpu", "memory", "disk", "network", "uptime", "runtime"];

/** The `system_info` tool: OS, CPU, memory, disk, network, uptime and runtime of the server's host. */
export const systemInfo = defineTool(systemInfoTool, async (input, ctx): Promise<SystemInfoOutput> => {
  const wanted = new Set<Section>(input.sections ?? allSections);
  const info: SystemInfoOutput = {};
  if (wanted.has("os")) {
    info.os = {
      platform: process.platform,
      arch: process.arch,
      hostname: os.hostname(),
      type: os.type(),
      release: os.release(),
    };
  }
  if (wanted.has("cpu")) {
    const cpus = os.cpus();
    const [one = 0, five = 0, fifteen = 0] = os.loadavg();
    info.cpu = {
      // Some virtual machines and containers report no CPUs at all.
      model: cpus[0]?.model.trim() ?? "unknown",
      cores: cpus.length,
      speedMHz: cpus[0]?.speed ?? 0,
      loadAverage: { oneMinute: one, fiveMinutes: five, fifteenMinutes: fifteen },
    };
  }
  if (wanted.has("memory")) {
    const total = os.totalmem();
    const free = os.freemem();
    const used = Math.max(0, total - free);
    info.memory = {
      totalBytes: total,
      freeBytes: free,
      usedBytes: used,
      usedPercent: total > 0 ? round2((used / total) * 100) : 0,
    };
  }
  if (wanted.has("disk")) {
    const disk = await rootDisk(ctx);
    if (disk !== undefined) info.disk = disk;
  }
  if (wanted.has("network")) {
    info.network = { interfaces: networkInterfaces() };
  }
  if (wanted.has("uptime")) {
    info.uptime = { systemSeconds: os.uptime(), processSeconds: round2(process.uptime()) };
  }
  if (wanted.has("runtime")) {
    info.runtime = { nodeVersion: process.version, pid: process.pid };
  }
  return info;
});

async function rootDisk(ctx: ToolContext): Promise<SystemInfoOutput["disk"]> {
  const path = "/";
  try {
    const s = await statfs(path);
    return {
      path,
      totalBytes: s.blocks * s.bsize,
      freeBytes: s.bfree * s.bsize,
      availableBytes: s.bavail * s.bsize,
    };
  } catch (err) {
    // The other sections are still worth having; say why disk is missing instead of failing.
    ctx.log("warning", `disk section unavailable: statfs ${path} failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

function networkInterfaces(): NonNullable<SystemInfoOutput["network"]>["interfaces"] {
  const result: NonNullable<SystemInfoOutput["network"]>["interfaces"] = [];
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      result.push({ name, address: a.address, family: a.family, internal: a.internal, mac: a.mac });
    }
  }
  return result;
}
