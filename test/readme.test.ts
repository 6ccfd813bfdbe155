import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../src/config/index.js";
import { docBlocks, docRunners, exampleOf, repoRoot, runExample, runnerBlocks, startReadmeServer, type ReadmeServer } from "./helpers/readme.js";

// Every curl and buf curl command of the README and docs/, against the server the README's quick
// start runs (`npm start`), started as written except `npm install` (the tests run offline).
const examples = await runnerBlocks(docRunners.server);
const [quickStart] = await runnerBlocks(docRunners.quickStart);
const startCommand = quickStart?.code.trim().replace(/^npm install && /, "") ?? "false";

let server: ReadmeServer;
beforeAll(async () => {
  server = await startReadmeServer(startCommand, repoRoot, {});
}, 60_000);
afterAll(() => server?.stop());

/** The first ```json block of a page's `## section`. */
async function jsonOf(page: string, section: string): Promise<unknown> {
  const block = (await docBlocks(page)).find((b) => b.section === section && b.lang === "json");
  return JSON.parse(block?.code ?? "{}");
}

describe("README and docs: curl and buf curl examples", () => {
  it("starts with npm install && npm start, which serves the built-in tools", async () => {
    expect(quickStart?.code.trim()).toBe("npm install && npm start");
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });

  it("has curl and buf curl examples over every protocol, in the README's tour too", () => {
    expect(examples.filter((e) => e.code.startsWith("curl")).length).toBeGreaterThanOrEqual(8);
    for (const protocol of ["grpc", "grpcweb", "connect"]) {
      expect(examples.some((e) => e.code.includes(`--protocol ${protocol}`))).toBe(true);
    }
    expect(examples.filter((e) => e.page === "README.md").length).toBeGreaterThanOrEqual(4);
  });

  it.each(examples.map((e) => [`${e.page}: ${e.code.split("\n")[0] ?? ""}`, e] as const))("runs %s as written", async (_title, block) => {
    expect(block.expects[0], "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
    expect(await runExample(exampleOf(block), server.url, repoRoot)).toContain(block.expects[0]);
  });

  it("shows a Deployment config for Redis that the config schema accepts", async () => {
    const config = validateConfig(await jsonOf("docs/deployment.md", "Several instances, Redis and nginx"), "docs/deployment.md");
    expect(config.redis?.eventMaxAgeMs).toBe(86_400_000);
  });

  it("shows a tools.executeCommand config that the config schema accepts", async () => {
    const config = validateConfig(await jsonOf("docs/tools.md", "Built-in tools"), "docs/tools.md");
    expect(config.tools?.executeCommand).toEqual({ allowCommands: ["git", "ls", "uptime"], maxResponseBytes: 1_048_576 });
  });
});
