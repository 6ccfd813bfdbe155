import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { validateManifest } from "../../src/registry/manifest-validation.js";
import { builtinTools } from "../../src/tools/index.js";

describe("builtinTools", () => {
  it("holds every manifest in schemas/tools, sorted by name", async () => {
    const files = (await readdir(new URL("../../schemas/tools/", import.meta.url))).filter((f) => f.endsWith(".json"));
    const names = builtinTools.map((t) => t.descriptor.manifest.name);
    expect(names).toEqual([
      "calculator",
      "check_service_health",
      "echo",
      "execute_command",
      "list_processes",
      "monitor_resources",
      "system_info",
    ]);
    expect(names).toEqual(files.map((f) => f.replace(/\.json$/, "")).sort());
  });

  it.each(builtinTools.map((t) => [t.descriptor.manifest.name, t] as const))("%s has a complete manifest", (_name, tool) => {
    const manifest = validateManifest(tool.descriptor.manifest);
    expect(manifest.title).toBeTruthy();
    expect(manifest.category).toBeTruthy();
    expect(manifest.tags?.length).toBeGreaterThan(0);
    expect(manifest.timeoutMs).toBeGreaterThan(0);
    expect(manifest.annotations).toBeDefined();
    expect(manifest.input.additionalProperties).toBe(false);
    expect(manifest.output?.type).toBe("object");
    expect(typeof tool.handler).toBe("function");
  });

  it("gives the system-changing tools stricter security levels", () => {
    const level = (name: string) => builtinTools.find((t) => t.descriptor.manifest.name === name)?.descriptor.manifest.securityLevel;
    expect(level("execute_command")).toBe("restricted");
    expect(level("list_processes")).toBe("authenticated");
    expect(level("check_service_health")).toBe("authenticated");
    expect(level("calculator")).toBe("public");
  });
});
