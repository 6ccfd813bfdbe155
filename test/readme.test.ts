import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { createToolwireApp } from "../src/app/index.js";
import { validateConfig } from "../src/config/index.js";
import type { ToolwireServer } from "../src/server/index.js";
import { fencedBlocks, readReadme } from "./helpers/readme.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const readme = await readReadme();

interface Example {
  readonly command: string;
  readonly expect: string | undefined;
}

/** Every sh block that calls curl or buf curl, with the `<!-- expect: … -->` comment after it. */
function shellExamples(markdown: string): Example[] {
  return fencedBlocks(markdown, "sh")
    .map((b) => ({ command: b.code.trim(), expect: b.expects[0] }))
    .filter((e) => /^(curl|npx buf curl)\b/.test(e.command));
}

// The server `toolwire serve` runs, on a random port.
let server: ToolwireServer;
beforeAll(async () => {
  server = await createToolwireApp({ server: { port: 0 } }, { logger: pino({ level: "silent" }) });
  await server.listen();
});
afterAll(() => server.close(0));

const examples = shellExamples(readme);

describe("README", () => {
  it("has curl and buf curl examples over every protocol", () => {
    expect(examples.filter((e) => e.command.startsWith("curl")).length).toBeGreaterThanOrEqual(4);
    for (const protocol of ["grpc", "grpcweb", "connect"]) {
      expect(examples.some((e) => e.command.includes(`--protocol ${protocol}`))).toBe(true);
    }
  });

  it.each(examples.map((e) => [e.command.split("\n")[0] ?? "", e] as const))("runs `%s` as written", async (_title, example) => {
    expect(example.expect, "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
    const command = example.command.replaceAll("http://localhost:8081", server.url);
    const { stdout } = await run("bash", ["-c", command], { cwd: root, timeout: 20_000 });
    expect(stdout).toContain(example.expect);
  });

  it("shows a Deployment config for Redis that the config schema accepts", () => {
    const section = readme.slice(readme.indexOf("### Several instances, Redis and nginx"));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(json).toContain('"redis"');
    expect(validateConfig(JSON.parse(json ?? "{}"), "README Deployment").redis?.eventMaxAgeMs).toBe(86_400_000);
  });

  it("shows a tools.executeCommand config that the config schema accepts", () => {
    const section = readme.slice(readme.indexOf("## Built-in tools"));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(validateConfig(JSON.parse(json ?? "{}"), "README Built-in tools").tools?.executeCommand).toEqual({
      allowCommands: ["git", "ls", "uptime"],
      maxResponseBytes: 1_048_576,
    });
  });

  it("runs the TypeScript client example", async () => {
    const code = /```ts\n(import \{ createConnectTransport[\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = join(root, "test", ".tmp");
    await mkdir(dir, { recursive: true });
    const file = join(dir, `readme-client-${process.pid}.ts`);
    await writeFile(file, (code ?? "").replace("./gen/", "../../gen/").replace("http://localhost:8081", server.url));
    try {
      const { stdout } = await run(join(root, "node_modules/.bin/tsx"), [file], { cwd: root, timeout: 20_000 });
      expect(stdout.trim()).toBe("5");
    } finally {
      await rm(file, { force: true });
    }
  });
});
