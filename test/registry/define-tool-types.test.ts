import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTsc, type Diagnostic } from "../client/run-tsc.js";

const root = join(import.meta.dirname, "../..");
const fixture = join(import.meta.dirname, "fixtures/inline-tools.ts");
// Same depth as the fixture below the root, so its relative imports resolve unchanged.
const dir = join(root, "test/.tmp", `inline-tools-${process.pid}`);

let source: string;
let diagnostics: Diagnostic[];

/** 1-based lines of the fixture carrying an @ts-expect-error directive. */
function directiveLines(text: string): number[] {
  return text.split("\n").flatMap((line, i) => (line.includes("// @ts-expect-error") ? [i + 1] : []));
}

beforeAll(async () => {
  source = await readFile(fixture, "utf8");
  await mkdir(dir, { recursive: true });
  // The fixture with its directives blanked out (lines kept): every one must then be an error.
  await writeFile(join(dir, "unmarked.ts"), source.replace(/\/\/ @ts-expect-error.*$/gm, "//"));
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ extends: "../../../tsconfig.json", include: [fixture, join(dir, "unmarked.ts")] }));
  diagnostics = await runTsc(join(dir, "tsconfig.json"));
}, 120_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

describe("defineTool's types, checked by tsc", () => {
  it("infers handler input and output from inline manifests and keeps descriptor types", () => {
    expect(directiveLines(source).length).toBeGreaterThanOrEqual(6);
    expect(diagnostics.filter((d) => d.file.endsWith("fixtures/inline-tools.ts"))).toEqual([]);
  });

  it("rejects every wrong use marked in the fixture, each on the line after its mark", () => {
    const unmarked = diagnostics.filter((d) => d.file.endsWith("unmarked.ts"));
    expect([...new Set(unmarked.map((d) => d.line))].sort((a, b) => a - b)).toEqual(directiveLines(source).map((line) => line + 1));
  });
});
