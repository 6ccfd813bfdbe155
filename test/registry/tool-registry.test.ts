import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ManifestError } from "../../src/registry/manifest-validation.js";
import { createToolRegistry, type RegistryChange, type ToolRegistry } from "../../src/registry/tool-registry.js";
import { connectThrow, tool } from "../helpers/registry-fixtures.js";
import { echo } from "../../src/tools/echo.js";

/** A registry holding `name` in every given version; "!" after a version marks it deprecated. */
function registryWith(name: string, versions: readonly string[]): ToolRegistry {
  const registry = createToolRegistry();
  for (const v of versions) {
    const deprecated = v.endsWith("!");
    const version = deprecated ? v.slice(0, -1) : v;
    registry.register(tool({ name, version, ...(deprecated ? { deprecated: true } : {}) }));
  }
  return registry;
}

describe("createToolRegistry", () => {
  it("registers a tool and resolves it by name", () => {
    const registry = createToolRegistry();
    const handler = () => "hi";
    const registered = registry.register(tool({ name: "greet", version: "1.0.0", securityLevel: "authenticated" }, handler));
    expect(registered.name).toBe("greet");
    expect(registered.version).toBe("1.0.0");
    expect(registered.securityLevel).toBe("authenticated");
    expect(registered.handler).toBe(handler);
    expect(registry.resolve("greet")).toBe(registered);
    expect(registry.size).toBe(1);
  });

  it("gives a tool without securityLevel the public level", () => {
    const registry = createToolRegistry();
    expect(registry.register(tool({ name: "open" })).securityLevel).toBe("public");
  });

  it("compiles the input schema once, applying defaults", () => {
    const registry = createToolRegistry();
    const registered = registry.register(
      tool({ name: "d", input: { type: "object", properties: { n: { type: "integer", default: 7 } } } }),
    );
    const args: Record<string, unknown> = {};
    expect(registered.validateInput(args)).toBe(true);
    expect(args).toEqual({ n: 7 });
    expect(registered.validateInput({ n: "x" })).toBe(false);
    expect(registered.validateOutput).toBeUndefined();
  });

  it("registers two versions whose schemas carry the same $id", () => {
    const registry = createToolRegistry();
    const input = { type: "object" as const, $id: "https://example.test/in.json" };
    registry.register(tool({ name: "ids", version: "1.0.0", input: { ...input } }));
    expect(() => registry.register(tool({ name: "ids", version: "2.0.0", input: { ...input } }))).not.toThrow();
  });

  it("refuses a bad manifest with a ManifestError and registers nothing", () => {
    const registry = createToolRegistry();
    expect(() => registry.register(tool({ name: "bad name" }))).toThrow(ManifestError);
    expect(registry.size).toBe(0);
  });

  it("answers not_found for an unknown tool", () => {
    const err = connectThrow(() => createToolRegistry().resolve("nope"));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toContain(`tool "nope" not found`);
  });

  it("compares versions as semver, not as strings (1.10.0 beats 1.9.0)", () => {
    const registry = registryWith("calc", ["1.9.0", "1.10.0", "1.2.0"]);
    expect(registry.resolve("calc").version).toBe("1.10.0");
    expect(registry.versions("calc").map((t) => t.version)).toEqual(["1.10.0", "1.9.0", "1.2.0"]);
    expect(registry.resolve("calc", "^1.9").version).toBe("1.10.0");
  });

  it("picks the highest non-deprecated, non-prerelease version by default", () => {
    const registry = registryWith("calc", ["1.0.0", "1.5.0", "2.0.0!", "2.1.0-beta.1"]);
    expect(registry.resolve("calc").version).toBe("1.5.0");
    expect(registry.resolve("calc", "latest").version).toBe("1.5.0");
    expect(registry.resolve("calc", "").version).toBe("1.5.0");
    expect(registry.list().map((t) => t.version)).toEqual(["1.5.0"]);
  });

  it("falls back to a non-deprecated pre-release when every release is deprecated", () => {
    const registry = registryWith("calc", ["1.0.0!", "2.0.0-rc.1"]);
    expect(registry.resolve("calc").version).toBe("2.0.0-rc.1");
  });

  it("falls back to the highest version when every version is deprecated", () => {
    const registry = registryWith("calc", ["1.0.0!", "1.2.0!", "1.1.0!"]);
    expect(registry.resolve("calc").version).toBe("1.2.0");
  });

  it("resolves an exact version pin, even a deprecated or pre-release one", () => {
    const registry = registryWith("calc", ["1.0.0!", "1.1.0", "2.0.0-beta.2"]);
    expect(registry.resolve("calc", "1.0.0").version).toBe("1.0.0");
    expect(registry.resolve("calc", "2.0.0-beta.2").version).toBe("2.0.0-beta.2");
    expect(registry.resolve("calc", "v1.1.0").version).toBe("1.1.0");
  });

  it("answers not_found for an exact version that is not registered, listing the available ones", () => {
    const registry = registryWith("calc", ["1.0.0", "1.1.0"]);
    const err = connectThrow(() => registry.resolve("calc", "1.0.1"));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toContain("1.0.1");
    expect(err.rawMessage).toContain("available: 1.1.0, 1.0.0");
  });

  it("resolves semver ranges to the highest matching version", () => {
    const registry = registryWith("calc", ["1.1.0", "1.2.0", "1.2.5", "1.3.0", "2.0.0", "2.1.0", "3.0.0-alpha.1"]);
    expect(registry.resolve("calc", "^1.2").version).toBe("1.3.0");
    expect(registry.resolve("calc", "~1.2.3").version).toBe("1.2.5");
    expect(registry.resolve("calc", "~1.2").version).toBe("1.2.5");
    expect(registry.resolve("calc", ">=2").version).toBe("2.1.0");
    expect(registry.resolve("calc", "1.x").version).toBe("1.3.0");
    expect(registry.resolve("calc", "<1.2.0").version).toBe("1.1.0");
  });

  it("prefers a non-deprecated version within a range", () => {
    const registry = registryWith("calc", ["1.2.0", "1.2.5", "1.3.0!"]);
    expect(registry.resolve("calc", "^1.2").version).toBe("1.2.5");
    expect(registry.resolve("calc", ">=1.3").version).toBe("1.3.0");
  });

  it("answers not_found for a range without a match, listing the available versions", () => {
    const registry = registryWith("calc", ["1.0.0", "1.10.0", "2.0.0"]);
    const err = connectThrow(() => registry.resolve("calc", "^3"));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toContain(`tool "calc"`);
    expect(err.rawMessage).toContain(`"^3"`);
    expect(err.rawMessage).toContain("available: 2.0.0, 1.10.0, 1.0.0");
  });

  it("answers invalid_argument for a version that is neither a version nor a range", () => {
    const registry = registryWith("calc", ["1.0.0"]);
    for (const spec of ["banana", "^^1", "1.2.3.4"]) {
      const err = connectThrow(() => registry.resolve("calc", spec));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain(spec);
    }
  });

  it("refuses to register the same version twice", () => {
    const registry = registryWith("calc", ["1.0.0"]);
    expect(() => registry.register(tool({ name: "calc", version: "1.0.0" }))).toThrow(/"calc" version 1\.0\.0 is already registered/);
    expect(registry.versions("calc")).toHaveLength(1);
  });

  it("names the manifest's source in the duplicate error", () => {
    const registry = registryWith("calc", ["1.0.0"]);
    const def = tool({ name: "calc", version: "1.0.0" });
    expect(() => registry.register({ ...def, descriptor: { ...def.descriptor, source: "plugins/calc.json" } })).toThrow(
      /plugins\/calc\.json/,
    );
  });

  it("unregisters one version and moves the default to the next one", () => {
    const registry = registryWith("calc", ["1.0.0", "1.1.0", "2.0.0"]);
    expect(registry.unregister("calc", "2.0.0")).toBe(1);
    expect(registry.resolve("calc").version).toBe("1.1.0");
    expect(registry.versions("calc").map((t) => t.version)).toEqual(["1.1.0", "1.0.0"]);
    expect(connectThrow(() => registry.resolve("calc", "2.0.0")).code).toBe(Code.NotFound);
    expect(registry.list().map((t) => t.version)).toEqual(["1.1.0"]);
  });

  it("unregisters every version when none is given", () => {
    const registry = registryWith("calc", ["1.0.0", "1.1.0"]);
    registry.register(tool({ name: "other" }));
    expect(registry.unregister("calc")).toBe(2);
    expect(connectThrow(() => registry.resolve("calc")).code).toBe(Code.NotFound);
    expect(registry.versions("calc")).toEqual([]);
    expect(registry.size).toBe(1);
    expect(registry.list().map((t) => t.name)).toEqual(["other"]);
  });

  it("removes the tool when its last version is unregistered", () => {
    const registry = registryWith("calc", ["1.0.0"]);
    expect(registry.unregister("calc", "1.0.0")).toBe(1);
    expect(registry.size).toBe(0);
    expect(registry.list()).toEqual([]);
  });

  it("returns 0 when unregistering an unknown tool or version", () => {
    const registry = registryWith("calc", ["1.0.0"]);
    expect(registry.unregister("nope")).toBe(0);
    expect(registry.unregister("calc", "9.9.9")).toBe(0);
    expect(registry.resolve("calc").version).toBe("1.0.0");
  });

  it("allows registering a version again after unregistering it", () => {
    const registry = registryWith("calc", ["1.0.0"]);
    registry.unregister("calc", "1.0.0");
    expect(() => registry.register(tool({ name: "calc", version: "1.0.0" }))).not.toThrow();
    expect(registry.resolve("calc").version).toBe("1.0.0");
  });

  it("tells listeners about registrations and removals until they unsubscribe", () => {
    const registry = createToolRegistry();
    const seen: string[] = [];
    const unsubscribe = registry.onChange((c: RegistryChange) => seen.push(`${c.type} ${c.tool.name}@${c.tool.version}`));
    registry.register(tool({ name: "a", version: "1.0.0" }));
    registry.register(tool({ name: "a", version: "2.0.0" }));
    registry.register(tool({ name: "b", version: "1.0.0" }));
    registry.unregister("a");
    registry.unregister("b", "1.0.0");
    expect(seen).toEqual([
      "registered a@1.0.0",
      "registered a@2.0.0",
      "registered b@1.0.0",
      "unregistered a@2.0.0",
      "unregistered a@1.0.0",
      "unregistered b@1.0.0",
    ]);
    unsubscribe();
    registry.register(tool({ name: "c" }));
    expect(seen).toHaveLength(6);
  });

  it("sends no event for a refused registration or a removal that removes nothing", () => {
    const registry = registryWith("calc", ["1.0.0"]);
    const seen: RegistryChange[] = [];
    registry.onChange((c) => seen.push(c));
    expect(() => registry.register(tool({ name: "calc", version: "1.0.0" }))).toThrow();
    expect(() => registry.register(tool({ name: "bad name" }))).toThrow();
    registry.unregister("calc", "2.0.0");
    registry.unregister("nope");
    expect(seen).toEqual([]);
  });

  it("lists the default version of every tool sorted by name", () => {
    const registry = createToolRegistry();
    for (const name of ["zeta", "alpha", "Mid", "beta_2", "beta"]) registry.register(tool({ name }));
    registry.register(tool({ name: "alpha", version: "2.0.0" }));
    const listed = registry.list();
    expect(listed.map((t) => t.name)).toEqual(["Mid", "alpha", "beta", "beta_2", "zeta"]);
    expect(listed.find((t) => t.name === "alpha")?.version).toBe("2.0.0");
    expect(registry.size).toBe(5);
  });

  it("keeps the listing current after changes", () => {
    const registry = createToolRegistry();
    registry.register(tool({ name: "b" }));
    expect(registry.list().map((t) => t.name)).toEqual(["b"]);
    registry.register(tool({ name: "a" }));
    expect(registry.list().map((t) => t.name)).toEqual(["a", "b"]);
    registry.unregister("b");
    expect(registry.list().map((t) => t.name)).toEqual(["a"]);
  });
});

describe("validators of generated descriptors", () => {
  it("compile on first use and then validate, fill defaults and report errors like eagerly compiled ones", () => {
    const registry = createToolRegistry();
    const generated = registry.register(echo);
    const inline = registry.register({ ...echo, descriptor: { manifest: { ...echo.descriptor.manifest, version: "9.0.0" } } });
    for (const registered of [generated, inline]) {
      const args: Record<string, unknown> = { message: "hi" };
      expect(registered.validateInput(args)).toBe(true);
      expect(args).toEqual({ message: "hi", uppercase: false });
      expect(registered.validateInput({})).toBe(false);
      expect(registered.validateInput.errors?.map((e) => e.params)).toEqual([{ missingProperty: "message" }]);
      expect(registered.validateOutput?.({ message: 1 })).toBe(false);
    }
  });

  it("are checked at registration when the manifest did not come from toolwire generate", () => {
    const registry = createToolRegistry();
    const broken = { ...echo, descriptor: { manifest: { ...echo.descriptor.manifest, input: { type: "object" as const, minimun: 1 } } } };
    expect(() => registry.register(broken)).toThrow(ManifestError);
  });
});
