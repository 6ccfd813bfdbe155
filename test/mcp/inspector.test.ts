import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToolwireApp } from "../../src/app/index.js";
import type { ToolwireServer } from "../../src/server/index.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const readme = await readFile(join(root, "README.md"), "utf8");

/** The README's MCP Inspector commands, each with the text its `<!-- expect: -->` comment promises. */
const inspectorExamples = [...readme.matchAll(/```sh\n([\s\S]*?)```\n(?:<!-- expect: (.*) -->)?/g)]
  .map((m) => ({ command: (m[1] ?? "").trim(), expect: m[2] }))
  .filter((e) => e.command.includes("mcp-inspector"));

// The server `toolwire serve` runs, on a random port.
let server: ToolwireServer;
beforeAll(async () => {
  server = await createToolwireApp({ server: { port: 0 } }, { logger: pino({ level: "silent" }) });
  await server.listen();
});
afterAll(() => server.close(0));

describe("the MCP Inspector, as the README shows it", () => {
  it("shows Inspector commands that list and call a tool", () => {
    expect(inspectorExamples.some((e) => e.command.includes("--method tools/list"))).toBe(true);
    expect(inspectorExamples.some((e) => e.command.includes("--method tools/call"))).toBe(true);
    expect(inspectorExamples.some((e) => e.command.includes("src/cli/bin.mjs"))).toBe(true);
  });

  const label = (command: string) => `${/--method ([^\s)]+)/.exec(command)?.[1] ?? command} over ${command.includes("/mcp") ? "HTTP" : "stdio"}`;
  it.each(inspectorExamples.map((e) => [label(e.command), e] as const))(
    // Exactly as written, from the repository root, as a reader would paste it.
    "runs the Inspector's %s",
    async (_method, example) => {
      expect(example.expect, "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
      expect(example.command, "a reader runs it from the repository root, without changing folder").not.toMatch(/\bcd\b/);
      const command = example.command.replaceAll("http://localhost:8081", server.url);
      const { stdout } = await run("bash", ["-c", command], { cwd: root, timeout: 60_000 });
      expect(stdout).toContain(example.expect);
    },
  );
});
