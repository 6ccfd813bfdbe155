import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashExamples, readmeSection, repoRoot, runExample, startReadmeServer, type ReadmeServer } from "./helpers/readme.js";

const section = await readmeSection("Security");
const examples = bashExamples(section);
const serveExample = examples.find((e) => e.command.includes("toolwire serve"));
const config = /<!-- config: toolwire\.json -->\n```json\n([\s\S]*?)```/.exec(section)?.[1];
const secret = "readme-test-secret-of-more-than-32-bytes";

const dir = join(repoRoot, "test", ".tmp", `readme-security-${process.pid}`);
let server: ReadmeServer;

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "toolwire.json"), config ?? "{}");
  await writeFile(join(dir, "jwt-secret.txt"), `${secret}\n`);
  // The serve command exactly as written.
  server = await startReadmeServer(serveExample?.command ?? "false", dir, {});
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("README Security section", () => {
  it("has a config example, the serve command and curl examples of each denial", () => {
    expect(config).toBeDefined();
    expect(serveExample).toBeDefined();
    for (const code of ["unauthenticated", "not_found", "429"]) {
      expect(examples.some((e) => e.expect?.includes(code)), code).toBe(true);
    }
  });

  // In order: the rate-limit example spends the anonymous budget, so it comes last.
  it.each(examples.filter((e) => e !== serveExample).map((e) => [e.command.split("\n")[0] ?? "", e] as const))(
    "runs `%s` as written",
    async (_title, example) => {
      expect(example.expect, "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
      const stdout = await runExample(example, server.url, dir, { TOOLWIRE_JWT_SECRET: secret });
      expect(stdout).toContain(example.expect);
    },
  );
});
