import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { keyCaller } from "../helpers/security.js";
import { createTestTools } from "../helpers/test-tools.js";
import { closedPort } from "../helpers/ports.js";
import { hasScript, killLeftoverProcesses, runCli, runCliOnTerminal, startCliServer, type CliTestServer } from "./cli-process.js";
import { createCliTools } from "./cli-tools.js";

const member = keyCaller("cli-lister", "authenticated");
const terminal = await hasScript();
let server: CliTestServer;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startCliServer({
    tools: [...createTestTools().tools, ...createCliTools()],
    config: { auth: { apiKeys: [member.entry!] } },
  });
  env = { TOOLWIRE_URL: server.url };
});
afterAll(() => server?.close());
afterEach(killLeftoverProcesses);

const list = (args: string[], extra: Record<string, string> = {}) => runCli(["list", ...args], { env: { ...env, ...extra } });

/** The rows of a printed table as arrays of cells (columns are separated by two or more spaces). */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split("\n")
    .map((line) => line.split(/ {2,}/));
}

describe("toolwire list", () => {
  it("prints a table of the tools the caller may call, sorted by name", async () => {
    const { code, stdout, stderr } = await list([]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const [header, ...body] = rows(stdout);
    expect(header).toEqual(["NAME", "VERSION", "LEVEL", "CATEGORY", "DESCRIPTION"]);
    const names = body.map((row) => row[0]);
    expect(names).toEqual([...names].sort());
    expect(names).toContain("calculator");
    expect(names).not.toContain("members");
    expect(body.find((row) => row[0] === "echo")).toEqual([
      "echo",
      "1.0.0",
      "public",
      "utility",
      "Returns the message it is given, optionally upper-cased. Useful to check connectivity and latency.",
    ]);
    expect(body.find((row) => row[0] === "versioned")?.[1]).toBe("2.0.0");
    expect(body.find((row) => row[0] === "monitor_resources")?.[4]).toMatch(/^\[streaming\] /);
    // Columns line up: every row's LEVEL starts where the header's does.
    const column = stdout.indexOf("LEVEL");
    for (const line of stdout.trimEnd().split("\n").slice(1)) expect(line.slice(column)).toMatch(/^(public|authenticated|restricted|admin) /);
  });

  it("lists more with an API key, from --api-key or TOOLWIRE_API_KEY", async () => {
    for (const run of [list(["--api-key", member.key!]), list([], { TOOLWIRE_API_KEY: member.key! })]) {
      const { code, stdout } = await run;
      expect(code).toBe(0);
      expect(rows(stdout).find((row) => row[0] === "members")?.slice(0, 4)).toEqual(["members", "1.0.0", "authenticated", "test"]);
    }
  });

  it("filters by --category, --tag and --query", async () => {
    const names = async (args: string[]) => rows((await list(args)).stdout).slice(1).map((row) => row[0]);
    expect(await names(["--category", "math"])).toEqual(["calculator"]);
    expect(await names(["--tag", "mirror"])).toEqual(["reflect"]);
    expect(await names(["--query", "UPPER-CASED"])).toEqual(["echo"]);
  });

  it("lists deprecated tools only with --include-deprecated, marked as such", async () => {
    const without = await list(["--category", "cli-test"]);
    expect(without.stdout).not.toContain("old_tool");
    const withDeprecated = await list(["--category", "cli-test", "--include-deprecated"]);
    expect(rows(withDeprecated.stdout).find((row) => row[0] === "old_tool")?.[4]).toBe("[deprecated] A tool on its way out.");
  });

  it("says so on stderr and exits 0 when nothing matches", async () => {
    const { code, stdout, stderr } = await list(["--category", "nothing-here"]);
    expect(code).toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toContain("no tools match");
  });

  it("prints an array of tools in protobuf JSON with --json", async () => {
    const { code, stdout } = await list(["--json", "--category", "utility"]);
    expect(code).toBe(0);
    const tools = JSON.parse(stdout) as { name: string; securityLevel: string; inputSchema: { required: string[] } }[];
    expect(tools.map((t) => t.name)).toEqual(["echo"]);
    expect(tools[0]).toMatchObject({ name: "echo", version: "1.0.0", securityLevel: "SECURITY_LEVEL_PUBLIC", inputSchema: { required: ["message"] } });
    expect(JSON.parse((await list(["--json", "--category", "nothing-here"])).stdout)).toEqual([]);
  });

  it.skipIf(!terminal)("cuts the table to the terminal's width on a TTY", async () => {
    const { code, stdout } = await runCliOnTerminal(["list"], 72, { env });
    expect(code).toBe(0);
    const lines = stdout.split("\r\n").filter(Boolean);
    expect(lines[0]).toMatch(/^NAME +VERSION +LEVEL +CATEGORY +DESCRIPTION$/);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(72);
    expect(lines.find((line) => line.startsWith("echo "))).toMatch(/…$/);
  });

  it("exits 4 when no server answers and 3 when the server refuses the credentials", async () => {
    const down = await list(["--url", `http://127.0.0.1:${await closedPort()}`]);
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/^toolwire list: cannot reach the server at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    const refused = await list([], { TOOLWIRE_API_KEY: "not-a-key" });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toBe("toolwire list: unauthenticated: invalid credentials: unknown API key\n");
  });

  it("talks to a server over gRPC and gRPC-Web too", async () => {
    for (const args of [["--protocol", "grpc"], ["--protocol", "grpc-web", "--http1"]]) {
      const { code, stdout } = await list(["--category", "math", ...args]);
      expect(code).toBe(0);
      expect(rows(stdout)[1]?.[0]).toBe("calculator");
    }
  });
});
