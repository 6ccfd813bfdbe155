import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryService } from "../../gen/proto/toolwire/v1/registry_service_pb.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { createPluginManager } from "../../src/registry/plugin-manager.js";
import { createToolRegistry } from "../../src/registry/tool-registry.js";
import { createAuthenticator } from "../../src/security/index.js";
import { createRegistryAdmin } from "../../src/server/registry-service.js";
import { echo } from "../../src/tools/echo.js";
import { createPluginDir, pluginModule, type PluginDir } from "../helpers/plugin-files.js";
import { authHeaders, keyCaller } from "../helpers/security.js";
import { protocolCases, startServer, type TestServer } from "../helpers/server.js";

const admin = keyCaller("root", "admin");
const operator = keyCaller("operator", "restricted", ["category:*"]);
let dir: PluginDir;
let server: TestServer;
beforeAll(async () => {
  dir = await createPluginDir();
  await dir.write("versions.mjs", pluginModule("versioned", "1.0.0", "one") + pluginModule("versioned", "2.0.0", "two").replace("export const tool", "export const tool2"));
  const registry = createToolRegistry();
  const plugins = createPluginManager({ registry, dirs: [dir.path] });
  await plugins.reload();
  server = await startServer({
    registry,
    tools: [echo],
    authenticate: createAuthenticator({ apiKeys: [admin.entry!, operator.entry!] }),
    extensions: [createRegistryAdmin({ plugins })],
  });
});
afterAll(async () => {
  await server.close();
  await dir.remove();
});

describe.each(protocolCases.filter((p) => ["connect json over HTTP/1.1", "gRPC over HTTP/2"].includes(p.name)))("RegistryService over $name", (protocol) => {
  const registryClient = () => createClient(RegistryService, protocol.transport(server.url));
  const tools = () => createClient(ToolService, protocol.transport(server.url));

  it("refuses every admin RPC to anonymous and non-admin callers", async () => {
    const attempts = [
      (h: Record<string, string>) => registryClient().reloadPlugins({}, { headers: h }),
      (h: Record<string, string>) => registryClient().unregisterTool({ name: "echo" }, { headers: h }),
      (h: Record<string, string>) => registryClient().setToolDeprecated({ name: "versioned", version: "1.0.0", deprecated: true }, { headers: h }),
    ];
    for (const attempt of attempts) {
      const anonymous = await attempt({}).catch((e: unknown) => ConnectError.from(e));
      expect((anonymous as ConnectError).code).toBe(Code.Unauthenticated);
      const weak = await attempt(authHeaders(operator)).catch((e: unknown) => ConnectError.from(e));
      expect((weak as ConnectError).code).toBe(Code.PermissionDenied);
      expect((weak as ConnectError).rawMessage).toContain("requires the admin level");
    }
    // Nothing changed.
    expect((await tools().getTool({ name: "echo" })).tool?.name).toBe("echo");
  });
});

describe("RegistryService for an admin", () => {
  const registryClient = () => createClient(RegistryService, protocolCases[0]!.transport(server.url));
  const tools = () => createClient(ToolService, protocolCases[0]!.transport(server.url));

  it("deprecates a version: calls still work with a warning, and the default moves", async () => {
    expect((await tools().getTool({ name: "versioned" })).tool?.versions).toEqual(["2.0.0", "1.0.0"]);
    const res = await registryClient().setToolDeprecated({ name: "versioned", version: "2.0.0", deprecated: true }, { headers: authHeaders(admin) });
    expect(res.defaultVersion).toBe("1.0.0");
    const pinned = await tools().callTool({ name: "versioned", version: "2.0.0" });
    expect(pinned.structuredContent).toEqual({ says: "two" });
    expect(pinned.warnings).toEqual(['tool "versioned" version 2.0.0 is deprecated; use version 1.0.0']);
    const plain = await tools().callTool({ name: "versioned" });
    expect(plain.toolVersion).toBe("1.0.0");
    await registryClient().setToolDeprecated({ name: "versioned", version: "2.0.0", deprecated: false }, { headers: authHeaders(admin) });
    expect((await tools().callTool({ name: "versioned" })).toolVersion).toBe("2.0.0");
  });

  it("unregisters one version, and says not_found for one that is not there", async () => {
    const res = await registryClient().unregisterTool({ name: "versioned", version: "1.0.0" }, { headers: authHeaders(admin) });
    expect(res.removedVersions).toEqual(["1.0.0"]);
    const err = await tools().callTool({ name: "versioned", version: "1.0.0" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
    const missing = await registryClient().unregisterTool({ name: "nope" }, { headers: authHeaders(admin) }).catch((e: unknown) => ConnectError.from(e));
    expect((missing as ConnectError).code).toBe(Code.NotFound);
  });

  it("reloads plugins: new files are served, broken ones reported", async () => {
    await dir.write("fresh.mjs", pluginModule("fresh", "1.0.0", "fresh"));
    await dir.write("broken.mjs", "export const = 1;\n");
    const res = await registryClient().reloadPlugins({}, { headers: authHeaders(admin) });
    expect(res.loaded).toContain("fresh@1.0.0");
    expect(res.failures.map((f) => f.file.split("/").pop())).toEqual(["broken.mjs"]);
    expect((await tools().callTool({ name: "fresh" })).structuredContent).toEqual({ says: "fresh" });
  });
});
