import { execFile } from "node:child_process";
import { access, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/security/index.js";
import { environment, killChild } from "../helpers/processes.js";
import { fencedBlocks, repoRoot } from "../helpers/readme.js";
import { spawnServe, type ServeProcess } from "../helpers/serve-process.js";

const run = promisify(execFile);
const exampleDir = join(repoRoot, "examples/python-client");
const readme = await readFile(join(exampleDir, "README.md"), "utf8");
/** The README's ```bash blocks, in order: `buf generate`, then the client runs. */
const [generate, ...clientRuns] = fencedBlocks(readme, "bash");

/** What the example needs from Debian, and how to get it, for a failure that says so. */
const packages = "python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc";
const missing = `examples/python-client needs ${packages} (apt-get install ${packages}; .ci/run installs them)`;

/**
 * The first python3 that imports grpc and google.protobuf: the one on PATH, else Debian's (a
 * pyenv or venv python3 on PATH does not see Debian's packages).
 */
async function findPython(): Promise<string> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    const found = await run(python, ["-c", "import grpc, google.protobuf, sys; print(sys.executable)"]).catch(() => undefined);
    if (found !== undefined) return found.stdout.trim();
  }
  throw new Error(`no python3 imports grpc and google.protobuf: ${missing}`);
}

/** Throws, naming the packages, unless protoc and grpc_python_plugin are on PATH. */
async function checkTools(): Promise<void> {
  for (const tool of ["protoc", "grpc_python_plugin"]) {
    await run("bash", ["-c", `command -v ${tool}`]).catch(() => {
      throw new Error(`${tool} is not on PATH: ${missing}`);
    });
  }
}

/** The README's sample output with what changes from run to run (request ids, CPU and memory use) masked. */
function masked(output: string): string {
  return output
    .trim()
    .replace(/request \S+\)/g, "request …)")
    .replace(/cpu [\d.]+%, memory [\d.]+%/g, "cpu …%, memory …%");
}

const apiKey = "tw_example_ci_bot";
let dir: string;
let server: ServeProcess;
/** Environment of the README's commands: a PATH whose python3 has grpcio, no TOOLWIRE_* settings. */
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await checkTools();
  const python = await findPython();
  dir = await mkdtemp(join(tmpdir(), "toolwire-python-client-"));
  await symlink(python, join(dir, "python3"));
  env = environment({ PATH: `${dir}:${process.env.PATH ?? ""}` });
  const config = join(dir, "toolwire.json");
  await writeFile(config, JSON.stringify({ auth: { apiKeys: [{ id: "ci-bot", sha256: hashApiKey(apiKey), level: "authenticated" }] } }));
  server = await spawnServe(["--config", config]);
});

afterAll(async () => {
  if (server !== undefined) await killChild(server.child, "SIGTERM");
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Runs a README command with bash in the example's folder, against the test's server. */
async function runCommand(command: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const address = new URL(server.url).host;
  const { stdout } = await run("bash", ["-c", command.replaceAll("localhost:8081", address)], {
    cwd: exampleDir,
    env: { ...env, ...extraEnv },
    timeout: 30_000,
  });
  return stdout;
}

describe("examples/python-client", () => {
  it("has a generate command and client runs that each say what they print", () => {
    expect(generate?.code.trim()).toBe("npx buf generate");
    expect(clientRuns.length).toBeGreaterThanOrEqual(3);
    for (const block of clientRuns) expect(block.expects, block.code).toHaveLength(1);
  });

  it("generates the Python messages and ToolService stub with buf generate and local plugins", async () => {
    await runCommand(generate?.code ?? "false");
    const stub = await readFile(join(exampleDir, "gen/toolwire/v1/tool_service_pb2_grpc.py"), "utf8");
    expect(stub).toContain("class ToolServiceStub");
    expect(stub).toContain("'/toolwire.v1.ToolService/CallToolStream'");
    await access(join(exampleDir, "gen/toolwire/v1/tool_service_pb2.pyi"));
    // Only Toolwire's own protos: a generated grpc/ package would shadow grpcio's.
    await expect(access(join(exampleDir, "gen/grpc"))).rejects.toThrow();
  });

  it.each(clientRuns.map((b) => [b.code.trim(), b] as const))("runs `%s` as written", async (_title, block) => {
    expect(await runCommand(block.code)).toContain(block.expects[0]);
  });

  it("prints what the README shows", async () => {
    const shown = /It prints:\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(shown).toBeDefined();
    const printed = await runCommand("python3 client.py localhost:8081");
    expect(masked(printed)).toBe(masked(shown ?? ""));
  });

  it("takes the address from TOOLWIRE_ADDRESS when it has no argument", async () => {
    const printed = await runCommand("python3 client.py", { TOOLWIRE_ADDRESS: server.url });
    expect(printed).toContain('no_such_tool: NOT_FOUND: tool "no_such_tool" not found\nno_such_tool: reason TOOL_NOT_FOUND');
  });

  it("reports a refused call on stderr with its status code and exits 1", async () => {
    const failed = await runCommand("python3 client.py localhost:8081", { TOOLWIRE_API_KEY: "tw_not_a_key" }).catch((err: unknown) => err);
    expect(failed).toMatchObject({ code: 1, stdout: "", stderr: "error: UNAUTHENTICATED: invalid credentials: unknown API key\n" });
  });
});
