import { access, readdir, readFile } from "node:fs/promises";
import { basename } from "node:path";
import {
  listProcessesTool,
  type ListProcessesInput,
  type ListProcessesOutput,
  type ProcessInfo,
} from "../../gen/tools/list_processes.js";
import { defineTool } from "../registry/define-tool.js";
import { ToolError } from "../registry/tool-result.js";
import { delay } from "./delay.js";
import { round2 } from "./round.js";

/** Time between the two /proc snapshots whose difference gives each process's CPU use. */
const sampleWindowMs = 200;
/** Longest command line returned; argv can be megabytes. */
const maxCommandLength = 1024;
/** Files read at once, so thousands of processes do not flood libuv's thread pool. */
const readConcurrency = 32;

/**
 * The `list_processes` tool: processes from /proc with CPU use measured over ~200 ms, resident
 * memory and owner, filtered, sorted and limited. Linux only.
 *
 * Command lines often carry secrets (passwords, tokens in arguments), so the full command line is
 * shown only for processes of the server's own user; for the others only the program name is,
 * with `commandRedacted: true`. The filter sees only what is shown, so it cannot be used to probe
 * hidden arguments.
 */
export const listProcesses = defineTool(listProcessesTool, async (input, ctx): Promise<ListProcessesOutput> => {
  try {
    await access("/proc/stat");
  } catch {
    throw new ToolError(`list_processes reads the Linux /proc file system, which this ${process.platform} host does not have`);
  }
  const before = await cpuSnapshot(ctx.signal);
  await delay(sampleWindowMs, ctx.signal);
  const after = await cpuSnapshot(ctx.signal);

  // Elapsed time per CPU in clock ticks, the unit of per-process times too, so USER_HZ cancels out.
  const ticksPerCpu = (after.totalTicks - before.totalTicks) / Math.max(1, after.cpuCount);
  const users = await userNames();
  const ownUid = process.getuid?.();
  const pids = [...after.processes.keys()];
  const details = await mapLimit(pids, readConcurrency, ctx.signal, (pid) => readDetails(pid));

  const needle = input.filter?.toLowerCase();
  const matching: ProcessInfo[] = [];
  for (const d of details) {
    if (d === undefined) continue;
    const now = after.processes.get(d.pid);
    if (now === undefined) continue;
    const then = before.processes.get(d.pid);
    // A process started during the window (or a reused pid) used all its ticks inside it.
    const startTicks = then !== undefined && then.startTime === now.startTime ? then.cpuTicks : 0;
    const cpuPercent = ticksPerCpu > 0 ? round2(((now.cpuTicks - startTicks) / ticksPerCpu) * 100) : 0;
    const own = ownUid !== undefined && d.uid === ownUid && d.euid === ownUid;
    const shown = own ? d.command : programName(d.command);
    const info: ProcessInfo = {
      pid: d.pid,
      ppid: now.ppid,
      name: now.name,
      command: shown === "" ? `[${now.name}]` : shown,
      commandRedacted: !own,
      state: now.state,
      cpuPercent: Math.max(0, cpuPercent),
      memoryBytes: d.rssBytes,
      uid: d.uid,
    };
    const user = users.get(d.uid);
    if (user !== undefined) info.user = user;
    if (needle !== undefined && !info.name.toLowerCase().includes(needle) && !info.command.toLowerCase().includes(needle)) {
      continue;
    }
    matching.push(info);
  }
  matching.sort(comparators[input.sortBy ?? "cpu"]);
  return { processes: matching.slice(0, input.limit ?? 20), total: matching.length };
});

type SortKey = NonNullable<ListProcessesInput["sortBy"]>;

const comparators: Record<SortKey, (a: ProcessInfo, b: ProcessInfo) => number> = {
  cpu: (a, b) => b.cpuPercent - a.cpuPercent || b.memoryBytes - a.memoryBytes || a.pid - b.pid,
  memory: (a, b) => b.memoryBytes - a.memoryBytes || b.cpuPercent - a.cpuPercent || a.pid - b.pid,
  pid: (a, b) => a.pid - b.pid,
};

/** What /proc/<pid>/stat says about one process. */
interface StatEntry {
  readonly name: string;
  readonly state: string;
  readonly ppid: number;
  /** User plus system time, in clock ticks. */
  readonly cpuTicks: number;
  /** Start time in ticks since boot; tells a reused pid from the original. */
  readonly startTime: string;
}

/** System-wide CPU time and every process's CPU time at one moment. */
interface CpuSnapshot {
  readonly totalTicks: number;
  readonly cpuCount: number;
  readonly processes: ReadonlyMap<number, StatEntry>;
}

async function cpuSnapshot(signal: AbortSignal): Promise<CpuSnapshot> {
  const [stat, entries] = await Promise.all([readFile("/proc/stat", "utf8"), readdir("/proc")]);
  const { totalTicks, cpuCount } = parseSystemStat(stat);
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number);
  const stats = await mapLimit(pids, readConcurrency, signal, async (pid) => {
    const text = await readOptional(`/proc/${pid}/stat`);
    return text === undefined ? undefined : ([pid, parseProcessStat(text)] as const);
  });
  const processes = new Map<number, StatEntry>();
  for (const s of stats) {
    if (s !== undefined && s[1] !== undefined) processes.set(s[0], s[1]);
  }
  return { totalTicks, cpuCount, processes };
}

function parseSystemStat(text: string): { totalTicks: number; cpuCount: number } {
  let totalTicks = 0;
  let cpuCount = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cpu ")) {
      // user nice system idle iowait irq softirq steal; guest times are already inside user.
      totalTicks = line
        .split(/\s+/)
        .slice(1, 9)
        .reduce((sum, v) => sum + (Number(v) || 0), 0);
    } else if (/^cpu\d+ /.test(line)) {
      cpuCount++;
    }
  }
  return { totalTicks, cpuCount };
}

function parseProcessStat(text: string): StatEntry | undefined {
  // The name sits in parentheses and may itself contain spaces and parentheses.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 of proc(5): state, ppid, …, utime (14), stime (15), …, starttime (22).
  const [state, ppid, utime, stime, startTime] = [fields[0], fields[1], fields[11], fields[12], fields[19]];
  if (state === undefined || ppid === undefined || utime === undefined || stime === undefined || startTime === undefined) {
    return undefined;
  }
  return {
    name: text.slice(open + 1, close),
    state,
    ppid: Number(ppid),
    cpuTicks: Number(utime) + Number(stime),
    startTime,
  };
}

/** The parts of a process only needed for the final answer. */
interface ProcessDetails {
  readonly pid: number;
  /** Command line, arguments joined by spaces, cut at {@link maxCommandLength}. */
  readonly command: string;
  readonly rssBytes: number;
  /** Real user id. */
  readonly uid: number;
  /** Effective user id. */
  readonly euid: number;
}

/**
 * The program name of a command line: the base name of argv[0], without anything else. Programs
 * that rewrite their title (sshd, postgres, nginx) may put spaces and details into argv[0], so it
 * is cut at the first space and a trailing colon dropped: "postgres: alice db …" gives "postgres".
 */
function programName(command: string): string {
  const first = command.split(/\s/, 1)[0] ?? "";
  return basename(first).replace(/:+$/, "");
}

async function readDetails(pid: number): Promise<ProcessDetails | undefined> {
  const [status, cmdline] = await Promise.all([readOptional(`/proc/${pid}/status`), readOptional(`/proc/${pid}/cmdline`)]);
  if (status === undefined || cmdline === undefined) return undefined;
  // Uid: real, effective, saved, file-system.
  const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  // Kernel threads have no VmRSS line: they own no user memory.
  const rssKb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  let command = cmdline.replace(/\0+$/, "").replace(/\0/g, " ").trim();
  if (command.length > maxCommandLength) command = command.slice(0, maxCommandLength);
  // Without a readable Uid line the owner is unknown: reported as 0, never treated as our own.
  const uid = uids?.[1] === undefined ? 0 : Number(uids[1]);
  const euid = uids?.[2] === undefined ? -1 : Number(uids[2]);
  return { pid, command, rssBytes: rssKb === undefined ? 0 : Number(rssKb) * 1024, uid, euid };
}

/** Reads a /proc file, or undefined when the process vanished or the file is not readable. */
async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

async function userNames(): Promise<ReadonlyMap<number, string>> {
  const names = new Map<number, string>();
  const passwd = await readOptional("/etc/passwd");
  for (const line of passwd?.split("\n") ?? []) {
    const [name, , uid] = line.split(":");
    if (name !== undefined && name !== "" && uid !== undefined && /^\d+$/.test(uid) && !names.has(Number(uid))) {
      names.set(Number(uid), name);
    }
  }
  return names;
}

/** Maps with at most `limit` calls in flight; stops taking new items once `signal` aborts. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      signal.throwIfAborted();
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  signal.throwIfAborted();
  return results;
}
