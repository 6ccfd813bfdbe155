import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTsc, type Diagnostic } from "./run-tsc.js";

const root = join(import.meta.dirname, "../..");
const fixture = join(import.meta.dirname, "fixtures/typed-calls.ts");
// Same depth as the fixture below the root, so its relative imports resolve unchanged.
const dir = join(root, "test/.tmp", `typed-calls-${process.pid}`);

let source: string;
let diagnostics: Diagnostic[];

beforeAll(async () => {
  source = await readFile(fixture, "utf8");
  await mkdir(dir, { recursive: true });
  // The same calls against a client whose types were lost (everything `any`).
  await writeFile(
    join(dir, "untyped-calls.ts"),
    source.replace("tools: ToolClient<ToolMap>, client: ToolwireClient", "tools: any, client: any"),
  );
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({ extends: "../../../tsconfig.json", include: [fixture, join(dir, "untyped-calls.ts")] }),
  );
  diagnostics = await runTsc(join(dir, "tsconfig.json"));
}, 120_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

/** 1-based lines of the fixture carrying an @ts-expect-error directive. */
function expectErrorLines(text: string): number[] {
  return text.split("\n").flatMap((line, i) => (line.includes("// @ts-expect-error") ? [i + 1] : []));
}

describe("typed client, checked by tsc", () => {
  it("compiles the correct calls and rejects every wrong one marked @ts-expect-error", () => {
    expect(expectErrorLines(source).length).toBeGreaterThanOrEqual(10);
    expect(diagnostics.filter((d) => d.file.endsWith("fixtures/typed-calls.ts"))).toEqual([]);
  });

  it("would catch a typed client that lost its types: every expectation then goes unmet", () => {
    const untyped = diagnostics.filter((d) => d.file.endsWith("untyped-calls.ts"));
    // TS2578: Unused '@ts-expect-error' directive — the wrong call compiled.
    expect(untyped.every((d) => d.code === "TS2578")).toBe(true);
    expect(untyped.map((d) => d.line)).toEqual(expectErrorLines(source));
  });
});
