import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToolwireClient } from "../../src/client/index.js";
import { manifestOfTool } from "../../src/codegen/manifest-of-tool.js";
import { validateManifest } from "../../src/registry/manifest-validation.js";
import { builtinTools } from "../../src/tools/index.js";
import { createAuthenticator } from "../../src/security/index.js";
import { manifest, tool } from "../helpers/registry-fixtures.js";
import { keyCaller } from "../helpers/security.js";
import { startServer, type TestServer } from "../helpers/server.js";

const everything = tool(
  manifest({
    name: "everything",
    title: "Every field",
    category: "test",
    tags: ["a", "b"],
    securityLevel: "public",
    timeoutMs: 1234,
    rateLimit: { maxCalls: 5, windowSeconds: 1.5 },
    maxConcurrency: 3,
    deprecated: true,
    experimental: true,
    streaming: true,
    annotations: { readOnlyHint: true, openWorldHint: false },
    output: { type: "object", properties: { n: { type: "integer" } } },
  }),
);

const admin = keyCaller("admin", "admin");

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: [...builtinTools, everything], authenticate: createAuthenticator({ apiKeys: [admin.entry!] }) });
});
afterAll(() => server.close());

describe("manifestOfTool", () => {
  it("reads back the manifest a listed tool was made from, for every field", async () => {
    // An admin sees every tool, whatever its level.
    const client = createToolwireClient(server.url, { apiKey: admin.key });
    try {
      const listed = await client.listTools({ includeDeprecated: true });
      const sources = [...builtinTools, everything].map((t) => t.descriptor.manifest);
      expect(listed.map((t) => t.name).sort()).toEqual(sources.map((m) => m.name).sort());
      for (const tool of listed) {
        const { $schema: _schema, ...source } = sources.find((m) => m.name === tool.name) ?? {};
        const read = manifestOfTool(tool);
        expect(read, tool.name).toEqual({ securityLevel: "public", ...source });
        expect(() => validateManifest(read, tool.name)).not.toThrow();
      }
    } finally {
      await client.disconnect();
    }
  });
});
