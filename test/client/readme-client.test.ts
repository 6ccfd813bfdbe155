import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToolwireApp } from "../../src/app/index.js";
import type { ToolwireServer } from "../../src/server/index.js";
import { fencedBlocks, readmeSection } from "../helpers/readme.js";
import { runTsc } from "./run-tsc.js";

const root = join(import.meta.dirname, "../..");
// Three levels below the root, like the README is zero: "./src/" becomes "../../../src/".
const dir = join(root, "test/.tmp", `readme-client-${process.pid}`);

interface Example {
  readonly code: string;
  readonly expect: string | undefined;
}

/** The ```ts blocks of the "TypeScript client" section, each with the expect comment after it. */
function clientExamples(section: string): Example[] {
  return fencedBlocks(section, "ts").map((b) => ({ code: b.code, expect: b.expects[0] }));
}

const examples = clientExamples(await readmeSection("TypeScript client"));
let servers: ToolwireServer[];
let files: string[];

beforeAll(async () => {
  // The server `toolwire serve` runs, twice: the manager example talks to two.
  servers = await Promise.all([0, 1].map(() => createToolwireApp({ server: { port: 0 } }, { logger: pino({ level: "silent" }) })));
  await Promise.all(servers.map((s) => s.listen()));
  await mkdir(dir, { recursive: true });
  files = await Promise.all(
    examples.map(async (example, i) => {
      const file = join(dir, `example-${i + 1}.ts`);
      const code = example.code
        .replaceAll('"./src/', '"../../../src/')
        .replaceAll('"./gen/', '"../../../gen/')
        .replaceAll("http://localhost:8081", servers[0]?.url ?? "")
        .replaceAll("http://localhost:8082", servers[1]?.url ?? "");
      // Each example is a module of its own (top-level await).
      await writeFile(file, `${code}\nexport {};\n`);
      return file;
    }),
  );
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ extends: "../../../tsconfig.json", include: files }));
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close(0)));
  await rm(dir, { recursive: true, force: true });
});

describe("README, TypeScript client", () => {
  it("shows a typed call, a stream, events and the manager", () => {
    expect(examples).toHaveLength(3);
    const all = examples.map((e) => e.code).join("\n");
    for (const shown of ["client.tools.calculator(", "client.tools.monitor_resources(", "addEventListener(", "createClientManager("]) {
      expect(all).toContain(shown);
    }
  });

  it("has examples that compile under the project's strict settings", async () => {
    expect(await runTsc(join(dir, "tsconfig.json"))).toEqual([]);
  }, 120_000);

  it.each(examples.map((e, i) => [i + 1, e] as const))("runs example %i as written", async (i, example) => {
    expect(example.expect, "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
    const { stdout } = await promisify(execFile)(join(root, "node_modules/.bin/tsx"), [files[i - 1] ?? ""], { cwd: root, timeout: 30_000 });
    expect(stdout).toContain(example.expect);
  });
});
