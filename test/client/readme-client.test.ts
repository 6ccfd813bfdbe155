import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killChild } from "../helpers/processes.js";
import { docRunners, repoRoot, resolveToolwireImports, runnerBlocks } from "../helpers/readme.js";
import { spawnServe, type ServeProcess } from "../helpers/serve-process.js";
import { runTsc } from "./run-tsc.js";

// Inside the repository, so that the programs resolve the repository's node_modules.
const dir = join(repoRoot, "test/.tmp", `readme-client-${process.pid}`);

// The TypeScript programs of the README's tour and docs/client.md, as a reader saves them.
const examples = await runnerBlocks(docRunners.client);
let servers: ServeProcess[];
let files: string[];

beforeAll(async () => {
  // What `npm start` serves, twice: the manager example talks to a second server on 8082.
  servers = await Promise.all([spawnServe([]), spawnServe([])]);
  await mkdir(dir, { recursive: true });
  files = await Promise.all(
    examples.map(async (example, i) => {
      const file = join(dir, `example-${i + 1}.ts`);
      const code = resolveToolwireImports(example.code, dir)
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
  await Promise.all(servers.map((s) => killChild(s.child, "SIGTERM")));
  await rm(dir, { recursive: true, force: true });
});

describe("README and docs/client.md: TypeScript programs", () => {
  it("show the tour, a typed call, a stream, events and the manager, importing the toolwire package", () => {
    expect(examples.map((e) => e.page)).toEqual(["README.md", "docs/client.md", "docs/client.md", "docs/client.md"]);
    const all = examples.map((e) => e.code).join("\n");
    for (const shown of ["client.tools.calculator(", "client.tools.monitor_resources(", "addEventListener(", "createClientManager("]) {
      expect(all).toContain(shown);
    }
    for (const example of examples) expect(example.code).not.toMatch(/from "\.\.?\//);
  });

  it("compile under the project's strict settings", async () => {
    expect(await runTsc(join(dir, "tsconfig.json"))).toEqual([]);
  }, 120_000);

  it.each(examples.map((e, i) => [i + 1, e.page, e] as const))("runs example %i (%s) as written", async (i, _page, example) => {
    expect(example.expects[0], "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
    const { stdout } = await promisify(execFile)(join(repoRoot, "node_modules/.bin/tsx"), [files[i - 1] ?? ""], { cwd: repoRoot, timeout: 30_000 });
    expect(stdout).toContain(example.expects[0]);
  });
});
