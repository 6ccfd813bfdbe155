import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const readme = await readFile(join(root, "README.md"), "utf8");
const section = /\n## Security\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";

interface Example {
  readonly command: string;
  readonly expect: string | undefined;
}

/** The section's ```bash blocks with the `<!-- expect: … -->` comment after each. */
const examples: Example[] = [...section.matchAll(/```bash\n([\s\S]*?)```\n(?:<!-- expect: (.*) -->)?/g)].map((m) => ({
  command: (m[1] ?? "").trim(),
  expect: m[2],
}));
const serveExample = examples.find((e) => e.command.includes("toolwire serve"));
const config = /<!-- config: toolwire\.json -->\n```json\n([\s\S]*?)```/.exec(section)?.[1];

const dir = join(root, "test", ".tmp", `readme-security-${process.pid}`);
const env = { ...process.env, TOOLWIRE_PORT: "0", NO_COLOR: "1" };
let server: ChildProcess | undefined;
let url = "";

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "toolwire.json"), config ?? "{}");
  await writeFile(join(dir, "jwt-secret.txt"), "readme-test-secret-of-more-than-32-bytes\n");
  // The serve command exactly as written, in its own process group so it can be stopped by pid.
  server = spawn("bash", ["-c", serveExample?.command ?? "false"], { cwd: dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  server.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server?.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const match = /toolwire listening on (\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    server?.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}, 60_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once("exit", resolve));
    process.kill(-server.pid, "SIGTERM");
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

describe("README Security section", () => {
  it("has a config example, the serve command and curl examples of each denial", () => {
    expect(config).toBeDefined();
    expect(serveExample).toBeDefined();
    for (const code of ["unauthenticated", "permission_denied", "429"]) {
      expect(examples.some((e) => e.expect?.includes(code)), code).toBe(true);
    }
  });

  // In order: the rate-limit example spends the anonymous budget, so it comes last.
  it.each(examples.filter((e) => e !== serveExample).map((e) => [e.command.split("\n")[0] ?? "", e] as const))(
    "runs `%s` as written",
    async (_title, example) => {
      expect(example.expect, "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
      const command = example.command.replaceAll("http://localhost:8081", url);
      const { stdout } = await run("bash", ["-c", command], {
        cwd: dir,
        timeout: 30_000,
        env: { ...env, TOOLWIRE_JWT_SECRET: "readme-test-secret-of-more-than-32-bytes" },
      });
      expect(stdout).toContain(example.expect);
    },
  );
});
