import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killChild } from "../helpers/processes.js";
import { docRunners, exampleOf, repoRoot, runnerBlocks } from "../helpers/readme.js";
import { spawnServe, type ServeProcess } from "../helpers/serve-process.js";

const run = promisify(execFile);
const root = repoRoot;

/** The docs' MCP Inspector commands, each with the text its `<!-- expect: -->` comment promises. */
const inspectorExamples = (await runnerBlocks(docRunners.inspector)).map(exampleOf);

// What `npm start` serves, on a random port.
let server: ServeProcess;
beforeAll(async () => {
  server = await spawnServe([]);
}, 60_000);
afterAll(() => killChild(server.child, "SIGTERM"));

describe("the MCP Inspector, as docs/mcp.md shows it", () => {
  it("shows Inspector commands that list and call a tool", () => {
    expect(inspectorExamples.some((e) => e.command.includes("--method tools/list"))).toBe(true);
    expect(inspectorExamples.some((e) => e.command.includes("--method tools/call"))).toBe(true);
    expect(inspectorExamples.some((e) => e.command.includes("dist/src/cli/main.js"))).toBe(true);
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
