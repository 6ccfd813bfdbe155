import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPluginManager, type PluginManager } from "../../src/registry/plugin-manager.js";
import { createToolRegistry, type ToolRegistry } from "../../src/registry/tool-registry.js";
import { createCallPipeline } from "../../src/runtime/call-pipeline.js";
import { echo } from "../../src/tools/echo.js";
import { createPluginDir, pluginModule, type PluginDir } from "../helpers/plugin-files.js";

let dir: PluginDir;
let registry: ToolRegistry;
let plugins: PluginManager;
beforeEach(async () => {
  dir = await createPluginDir();
  registry = createToolRegistry();
  registry.register(echo);
  plugins = createPluginManager({ registry, dirs: [dir.path], debounceMs: 50 });
});
afterEach(async () => {
  plugins.close();
  await dir.remove();
});

const caller = { headers: new Headers(), protocol: "test" };
const call = (name: string) =>
  createCallPipeline({ registry })
    .call({ name, caller, signal: new AbortController().signal })
    .then((r) => (r.structuredContent as { says: string }).says);

describe("plugin directories", () => {
  it("loads tools exported by modules and by a manifest beside its handler", async () => {
    await dir.write("greeter.mjs", pluginModule("greeter", "1.0.0", "hello"));
    await dir.write(
      "shouter.tool.json",
      JSON.stringify({ name: "shouter", version: "2.0.0", description: "shouts", input: { type: "object", properties: { text: { type: "string" } } } }),
    );
    await dir.write("shouter.mjs", "export function handler(input) { return { says: String(input.text ?? '').toUpperCase() }; }\n");
    const report = await plugins.reload();
    expect(report.failures).toEqual([]);
    expect([...report.loaded].sort()).toEqual(["greeter@1.0.0", "shouter@2.0.0"]);
    expect(await call("greeter")).toBe("hello");
    const shouted = await createCallPipeline({ registry }).call({ name: "shouter", arguments: { text: "hi" }, caller, signal: new AbortController().signal });
    expect(shouted.structuredContent).toEqual({ says: "HI" });
    expect(registry.resolve("shouter").source).toContain("shouter.tool.json");
  });

  it("loads TypeScript plugins through the project's loader", async () => {
    await dir.write(
      "typed.ts",
      `const answer: string = "typed";\nexport const tool = { descriptor: { manifest: { name: "typed", version: "1.0.0", description: "ts", input: { type: "object" } } }, handler: (): { says: string } => ({ says: answer }) };\n`,
    );
    const report = await plugins.reload();
    expect(report.failures).toEqual([]);
    expect(await call("typed")).toBe("typed");
  });

  it("reports broken plugins with the file and the reason, and keeps serving the rest", async () => {
    await dir.write("good.mjs", pluginModule("good", "1.0.0", "fine"));
    const syntax = await dir.write("syntax.mjs", "export const tool = {{;\n");
    const badManifest = await dir.write("bad.mjs", pluginModule("bad tool!", "1.0.0", "x"));
    const duplicate = await dir.write("dupe.mjs", pluginModule("echo", "1.0.0", "x"));
    const empty = await dir.write("empty.mjs", "export const nothing = 1;\n");
    const orphan = await dir.write("orphan.tool.json", JSON.stringify({ name: "orphan", version: "1.0.0", description: "x", input: { type: "object" } }));
    const report = await plugins.reload();
    const reasons = new Map(report.failures.map((f) => [f.file, f.reason]));
    expect(reasons.get(syntax)).toMatch(/cannot load syntax\.mjs/);
    expect(reasons.get(badManifest)).toMatch(/\/name: must match pattern/);
    expect(reasons.get(duplicate)).toMatch(/tool "echo" version 1\.0\.0 is already registered/);
    expect(reasons.get(empty)).toMatch(/exports no tools/);
    expect(reasons.get(orphan)).toMatch(/no handler module beside it/);
    expect(report.loaded).toEqual(["good@1.0.0"]);
    expect(await call("good")).toBe("fine");
    expect(registry.resolve("echo").source).toBe("schemas/tools/echo.json");
  });

  it("replaces a changed tool atomically: calls in flight finish on the old handler, new calls get the new one", async () => {
    await dir.write("worker.mjs", pluginModule("worker", "1.0.0", "old", 400));
    await plugins.reload();
    const inFlight = Array.from({ length: 5 }, () => call("worker"));
    await new Promise((r) => setTimeout(r, 50));
    await dir.write("worker.mjs", pluginModule("worker", "1.0.0", "new", 0));
    const report = await plugins.reload();
    expect(report.loaded).toEqual(["worker@1.0.0"]);
    const after = Array.from({ length: 5 }, () => call("worker"));
    expect(await Promise.all(inFlight)).toEqual(["old", "old", "old", "old", "old"]);
    expect(await Promise.all(after)).toEqual(["new", "new", "new", "new", "new"]);
  });

  it("keeps the previous version serving when an edit breaks the plugin", async () => {
    await dir.write("fragile.mjs", pluginModule("fragile", "1.0.0", "v1"));
    await plugins.reload();
    await dir.write("fragile.mjs", "export const tool = ;\n");
    const report = await plugins.reload();
    expect(report.failures.map((f) => f.reason).join()).toMatch(/cannot load fragile\.mjs/);
    expect(await call("fragile")).toBe("v1");
  });

  it("unregisters tools whose plugin no longer provides them, and announces every change", async () => {
    const changes: string[] = [];
    registry.onChange((c) => changes.push(`${c.type} ${c.tool.name}@${c.tool.version}`));
    await dir.write("multi.mjs", pluginModule("one", "1.0.0", "1") + pluginModule("two", "1.0.0", "2").replace("export const tool", "export const other"));
    await plugins.reload();
    await dir.write("multi.mjs", pluginModule("one", "1.1.0", "1.1"));
    const report = await plugins.reload();
    expect([...report.removed].sort()).toEqual(["one@1.0.0", "two@1.0.0"]);
    expect(registry.versions("two")).toEqual([]);
    expect(registry.resolve("one").version).toBe("1.1.0");
    expect(changes).toEqual([
      "registered one@1.0.0",
      "registered two@1.0.0",
      "registered one@1.1.0",
      "unregistered one@1.0.0",
      "unregistered two@1.0.0",
    ]);
  });

  it("picks up changes by itself when watching, debounced", async () => {
    await dir.write("watched.mjs", pluginModule("watched", "1.0.0", "before"));
    await plugins.reload();
    const reloads: string[][] = [];
    plugins.watch((report) => reloads.push([...report.loaded]));
    await dir.write("watched.mjs", pluginModule("watched", "1.0.0", "after"));
    await expect.poll(() => reloads.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(await call("watched")).toBe("after");
    await dir.write("added.mjs", pluginModule("added", "1.0.0", "new tool"));
    await expect.poll(() => registry.versions("added").length, { timeout: 5_000 }).toBe(1);
  });
});

describe("plugin directories under change", () => {
  let a: PluginDir;
  let b: PluginDir;
  let reg: ToolRegistry;
  let manager: PluginManager;
  beforeEach(async () => {
    a = await createPluginDir();
    b = await createPluginDir();
    reg = createToolRegistry();
    manager = createPluginManager({ registry: reg, dirs: [a.path, b.path] });
  });
  afterEach(async () => {
    manager.close();
    await a.remove();
    await b.remove();
  });

  it("keeps serving the tools of other directories when one cannot be read", async () => {
    await a.write("a.mjs", pluginModule("a_tool", "1.0.0", "a"));
    await b.write("b.mjs", pluginModule("b_tool", "1.0.0", "b"));
    await manager.reload();
    await b.remove();
    const report = await manager.reload();
    expect(report.failures.map((f) => f.reason)).toEqual([expect.stringContaining("cannot read plugin directory")]);
    expect(report.removed).toEqual([]);
    expect(reg.list().map((t) => t.name)).toEqual(["a_tool", "b_tool"]);
  });

  it("keeps a tool whose file was renamed", async () => {
    await a.write("greet.mjs", pluginModule("greet", "1.0.0", "hi"));
    await manager.reload();
    const { rename } = await import("node:fs/promises");
    await rename(`${a.path}/greet.mjs`, `${a.path}/zgreet.mjs`);
    const report = await manager.reload();
    expect(report.failures).toEqual([]);
    expect(report.removed).toEqual([]);
    expect(reg.resolve("greet").source).toBe(`${a.path}/zgreet.mjs`);
  });

  it("does not touch unchanged plugins on reload, and keeps an admin's deprecation", async () => {
    await a.write("same.mjs", pluginModule("same", "1.0.0", "x"));
    await manager.reload();
    reg.setDeprecated("same", "1.0.0", true);
    const changes: string[] = [];
    reg.onChange((c) => changes.push(c.type));
    const report = await manager.reload();
    expect(changes).toEqual([]);
    expect(report.removed).toEqual([]);
    expect(reg.resolve("same").manifest.deprecated).toBe(true);
  });
});
