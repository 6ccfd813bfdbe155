import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** One process as /proc/<pid>/stat shows it. */
export interface ProcStat {
  readonly pid: number;
  /** Executable name (at most 15 characters). */
  readonly comm: string;
  readonly ppid: number;
  /** User plus system CPU time so far, in microseconds (clock-tick resolution). */
  readonly cpuMicros: number;
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second, in which /proc reports CPU times (usually 100). */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const answer = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim());
    ticksPerSecond = Number.isInteger(answer) && answer > 0 ? answer : 100;
  }
  return ticksPerSecond;
}

/** Reads /proc/<pid>/stat; undefined when the process is gone (or /proc is not there). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The name is in parentheses and may itself hold spaces or parentheses: the fields that follow
  // are counted from the last ")".
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    pid,
    comm: text.slice(text.indexOf("(") + 1, close),
    ppid: Number(fields[1]),
    cpuMicros: (ticks * 1_000_000) / clockTicksPerSecond(),
  };
}

/** CPU microseconds used so far by all of `pids` together (a process that is gone counts 0). */
export function cpuMicrosOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (readProcStat(pid)?.cpuMicros ?? 0), 0);
}

/** The live processes whose parent is `parent`, optionally only those named `comm`. */
export function childProcesses(parent: number, comm?: string): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const children: ProcStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat !== undefined && stat.ppid === parent && (comm === undefined || stat.comm === comm)) children.push(stat);
  }
  return children;
}

/** Resident set size of `pid` in bytes (VmRSS of /proc/<pid>/status); undefined when the process is gone. */
export function rssBytesOf(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text)?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
}
