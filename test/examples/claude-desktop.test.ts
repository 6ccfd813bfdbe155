import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PassThrough } from "node:stream";
import { Client } from "@modelcontextprotocol/client";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/security/index.js";
import { killChild } from "../helpers/processes.js";
import { repoRoot } from "../helpers/readme.js";
import { spawnServe, type ServeProcess } from "../helpers/serve-process.js";

/** An `mcpServers` entry as Claude Desktop and Cursor read it. */
interface McpServerEntry {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
}

const config = JSON.parse(await readFile(join(repoRoot, "examples/claude-desktop/mcp.json"), "utf8")) as { mcpServers: Record<string, McpServerEntry> };
const entries = config.mcpServers;

// The shared server the --remote entry points at, with the entry's API key configured.
let shared: ServeProcess;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolwire-claude-desktop-"));
  const key = entries["toolwire-shared"]?.env?.TOOLWIRE_API_KEY ?? "";
  await writeFile(join(dir, "shared.json"), JSON.stringify({ auth: { apiKeys: [{ id: "desktop", sha256: hashApiKey(key), level: "authenticated" }] } }));
  shared = await spawnServe(["--config", join(dir, "shared.json")]);
}, 60_000);

afterAll(async () => {
  await killChild(shared.child, "SIGTERM");
  await rm(dir, { recursive: true, force: true });
});

/** Starts an entry's command as an MCP client does (stdio, from the project folder), initializes and lists the tools. */
async function toolsOf(entry: McpServerEntry, args: readonly string[]): Promise<{ client: Client; tools: string[]; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: entry.command, args: [...args], cwd: repoRoot, env: { ...getDefaultEnvironment(), ...entry.env }, stderr: "pipe" });
  let stderr = "";
  (transport.stderr as PassThrough).on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "claude-desktop-example", version: "1.0.0" });
  await client.connect(transport);
  const { tools } = await client.listTools();
  return { client, tools: tools.map((t) => t.name), stderr: () => stderr };
}

describe("examples/claude-desktop/mcp.json", () => {
  it("has a local and a --remote entry that run toolwire mcp", () => {
    expect(Object.keys(entries)).toEqual(["toolwire", "toolwire-shared"]);
    for (const entry of Object.values(entries)) expect([entry.command, ...entry.args].join(" ")).toMatch(/^npx -y toolwire mcp\b/);
    expect(entries["toolwire-shared"]?.args).toContain("--remote");
  });

  it("local entry: answers initialize over stdio and calls a built-in tool", async () => {
    const entry = entries.toolwire as McpServerEntry;
    const { client, tools } = await toolsOf(entry, entry.args);
    try {
      expect(client.getServerVersion()?.name).toBe("toolwire");
      expect(tools).toContain("calculator");
      const result = await client.callTool({ name: "calculator", arguments: { operation: "add", a: 2, b: 3 } });
      expect(result.structuredContent).toMatchObject({ result: 5 });
    } finally {
      await client.close();
    }
  }, 60_000);

  it("--remote entry: exposes the shared server's tools, called with the entry's API key", async () => {
    const entry = entries["toolwire-shared"] as McpServerEntry;
    const args = entry.args.map((arg) => (arg === "https://tools.example.com" ? shared.url : arg));
    const { client, tools } = await toolsOf(entry, args);
    try {
      // The key's level shows tools that anonymous callers do not see.
      expect(tools).toContain("list_processes");
      const result = await client.callTool({ name: "echo", arguments: { message: "from the desktop" } });
      expect(result.structuredContent).toEqual({ message: "from the desktop" });
    } finally {
      await client.close();
    }
  }, 60_000);
});
