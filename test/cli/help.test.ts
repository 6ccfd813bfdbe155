import { afterEach, describe, expect, it } from "vitest";
import { version } from "../../src/version.js";
import { killLeftoverProcesses, runCli } from "./cli-process.js";

afterEach(killLeftoverProcesses);

const commands = ["serve", "generate", "list", "call", "watch", "new-tool", "hash-key", "mcp"];
// The commands of the CLI issue, whose help carries examples and the exit codes.
const documented = ["list", "call", "watch", "new-tool"];

describe("toolwire --help", () => {
  it("lists every command and the exit codes", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    const listed = [...stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]);
    for (const command of commands) expect(listed).toContain(command);
    expect(stdout).toContain("Exit codes:\n  0    ok\n  1    the tool ran and reported an error");
    expect(stdout).toContain("  4    cannot reach the server");
  });

  it("prints the version with --version", async () => {
    const { code, stdout } = await runCli(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(version);
  });

  it.each(commands)("`toolwire %s --help` exits 0 with its usage", async (command) => {
    const { code, stdout, stderr } = await runCli([command, "--help"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: toolwire ${command} `));
    if (documented.includes(command)) {
      expect(stdout).toContain("\nExamples:\n  toolwire ");
      expect(stdout).toContain("\nExit codes:\n");
    }
  });

  it.each(documented.filter((c) => c !== "new-tool"))("`toolwire %s --help` names the server options and their environment variables", async (command) => {
    // Help wraps at 80 columns: compare with the line breaks taken out.
    const stdout = (await runCli([command, "--help"])).stdout.replace(/\s+/g, " ");
    for (const text of ["--url <url>", "env: TOOLWIRE_URL", "--api-key <key>", "env: TOOLWIRE_API_KEY", "--token <jwt>", "env: TOOLWIRE_TOKEN", "--json"]) {
      expect(stdout).toContain(text);
    }
  });
});

describe("usage errors", () => {
  it.each([
    [["call"], "error: missing required argument 'tool'"],
    [["list", "--bogus"], "error: unknown option '--bogus'"],
    [["no-such-command"], "error: unknown command 'no-such-command'"],
    [["new-tool", "x", "--level", "root"], "Allowed choices are public, authenticated, restricted, admin"],
    [["call", "echo", "--timeout"], "error: option '--timeout <ms>' argument missing"],
  ])("`toolwire %j` exits 2 with a one-line reason", async (args, reason) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(reason);
    expect(stderr).toMatch(/ \(see --help\)\n$/);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("exits 2 and prints the help when no command is given", async () => {
    const { code, stderr } = await runCli([]);
    expect(code).toBe(2);
    expect(stderr).toContain("Usage: toolwire [options] [command]");
  });
});
