import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { executeCommandTool, type ExecuteCommandOutput } from "../../gen/tools/execute_command.js";
import { textContent } from "../registry/content.js";
import { defineTool } from "../registry/define-tool.js";
import { ToolError, toolResult, type ToolResult } from "../registry/tool-result.js";
import { runProcess, type ProcessOutcome } from "./run-process.js";

/**
 * Programs `execute_command` refuses, by base name: shells (running one would undo "no shell"),
 * privilege and system-administration programs, and wrappers that run another program and so
 * would slip past this list. Names starting with `mkfs` are refused as well.
 */
export const deniedPrograms: ReadonlySet<string> = new Set([
  // Shells.
  "sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish", "ash", "mksh", "yash", "rbash", "busybox",
  // Privilege and system administration.
  "sudo", "su", "doas", "pkexec", "runuser", "rm", "dd", "fdisk", "shutdown", "reboot", "halt", "poweroff",
  "init", "systemctl", "kill", "killall", "pkill", "chmod", "chown", "mount", "umount",
  // Wrappers that run another program.
  "env", "nohup", "nice", "timeout", "xargs", "setsid", "stdbuf", "ionice", "chrt", "taskset", "chroot",
  "nsenter", "unshare", "script", "watch",
]);

type CommandResult = ExecuteCommandOutput | ToolResult<ExecuteCommandOutput>;

/** Environment variables passed on to programs; the server's others (credentials!) are not. */
const passedEnv = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT"];

/**
 * The `execute_command` tool: runs a program without a shell, refusing the programs in
 * {@link deniedPrograms}, and kills its whole process group on timeout or cancel. A timeout
 * is an error result that still carries the output collected so far.
 */
export const executeCommand = defineTool(executeCommandTool, async (input, ctx): Promise<CommandResult> => {
  const denied = deniedName(input.command);
  if (denied !== undefined) {
    throw new ToolError(
      `"${denied}" is not allowed: shells, privilege and system administration programs, and programs that run other programs are refused`,
    );
  }
  const cwd = input.cwd === undefined ? undefined : await directory(input.cwd);
  ctx.signal.throwIfAborted();
  const timeoutMs = input.timeoutMs ?? 10000;

  let outcome: ProcessOutcome;
  try {
    outcome = await runProcess({
      command: input.command,
      args: input.args ?? [],
      cwd,
      env: childEnv(),
      stdin: input.stdin,
      timeoutMs,
      maxOutputBytes: input.maxOutputBytes ?? 65536,
      signal: ctx.signal,
    });
  } catch (err) {
    throw new ToolError(spawnFailure(input.command, err));
  }
  if (outcome.aborted) throw ctx.signal.reason;

  const { aborted: _aborted, ...rest } = outcome;
  const output: ExecuteCommandOutput = rest;
  if (!outcome.timedOut) return output;
  return toolResult({
    structuredContent: output,
    // Text-only clients see the partial output too, not just the verdict.
    content: [
      textContent(`${input.command} timed out after ${timeoutMs} ms; its process group was killed.\n${JSON.stringify(output)}`),
    ],
    isError: true,
  });
});

function deniedName(command: string): string | undefined {
  // Case-folded and without Windows extensions so SH or bash.exe do not slip through.
  const name = basename(command).toLowerCase().replace(/\.(exe|com|cmd|bat)$/, "");
  return deniedPrograms.has(name) || name.startsWith("mkfs") ? name : undefined;
}

async function directory(path: string): Promise<string> {
  const absolute = resolve(path);
  let isDirectory = false;
  try {
    isDirectory = (await stat(absolute)).isDirectory();
  } catch {
    throw new ToolError(`working directory ${path} does not exist`);
  }
  if (!isDirectory) throw new ToolError(`working directory ${path} is not a directory`);
  return absolute;
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (passedEnv.includes(key) || key.startsWith("LC_"))) env[key] = value;
  }
  return env;
}

function spawnFailure(command: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return `program not found: ${command}`;
    case "EACCES":
      return `permission denied: ${command} is not executable`;
    default:
      return `cannot start ${command}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
