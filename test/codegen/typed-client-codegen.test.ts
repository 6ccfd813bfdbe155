import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileManifests } from "../../src/codegen/compile-manifests.js";
import { runTsc } from "../client/run-tsc.js";
import { manifest } from "../helpers/registry-fixtures.js";

const repoRoot = join(import.meta.dirname, "../..");
// A project of its own, inside the repository so that node_modules resolves and "toolwire"
// resolves to the repository itself (a package may import itself by name).
const root = join(repoRoot, "test/.tmp", `codegen-client-${process.pid}`);

const greetManifest = manifest({
  name: "greet_user",
  description: "Greets a user by name.",
  input: {
    type: "object",
    additionalProperties: false,
    required: ["name"],
    properties: { name: { type: "string" } },
  },
  output: {
    type: "object",
    additionalProperties: false,
    required: ["greeting"],
    properties: { greeting: { type: "string" } },
  },
});

const caller = `import { createClient } from "./gen/tools/index.js";

const { tools } = createClient("http://127.0.0.1:1");

export async function greet(): Promise<string> {
  const { greeting } = await tools.greet_user({ name: "Ada" });
  // @ts-expect-error -- the manifest says name is a string
  await tools.greet_user({ name: 42 });
  return greeting;
}
`;

beforeAll(async () => {
  await mkdir(join(root, "schemas/tools"), { recursive: true });
  await writeFile(join(root, "caller.ts"), caller);
  await writeFile(join(root, "tsconfig.json"), JSON.stringify({ extends: "../../../tsconfig.json", include: ["caller.ts"] }));
  await writeFile(join(root, "schemas/tools/ping.json"), JSON.stringify(manifest({ name: "ping" })));
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe("the generated typed client follows the manifests", () => {
  it("gains a typed method when a manifest is added", async () => {
    await writeFile(join(root, "schemas/tools/greet_user.json"), JSON.stringify(greetManifest));
    await compileManifests({ root });
    expect(await runTsc(join(root, "tsconfig.json"))).toEqual([]);
  }, 120_000);

  it("loses it when the manifest is removed, so callers fail to compile", async () => {
    await rm(join(root, "schemas/tools/greet_user.json"));
    await compileManifests({ root });
    const diagnostics = await runTsc(join(root, "tsconfig.json"));
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics.filter((d) => !d.file.endsWith("/caller.ts"))).toEqual([]);
    expect(diagnostics.map((d) => d.message)).toContain("Property 'greet_user' does not exist on type 'ToolClient<ToolMap>'.");
  }, 120_000);
});
