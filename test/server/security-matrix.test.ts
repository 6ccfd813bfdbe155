import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { defineTool, type ToolManifest } from "../../src/registry/index.js";
import { createAuthenticator } from "../../src/security/index.js";
import { anonymousCaller, authHeaders, keyCaller, type TestCaller } from "../helpers/security.js";
import { protocolCases, startServer, type TestServer } from "../helpers/server.js";

const run = promisify(execFile);

function tool(name: string, extra: Partial<ToolManifest>) {
  return defineTool(
    { name, version: "1.0.0", description: `matrix tool ${name}`, input: { type: "object" }, ...extra },
    (_input, ctx) => ({ caller: ctx.principal.id }),
  );
}

const tools = [
  tool("open", { securityLevel: "public" }),
  tool("members", { securityLevel: "authenticated" }),
  tool("ops", { securityLevel: "restricted", category: "ops" }),
  tool("root", { securityLevel: "admin" }),
];

const callers = {
  anonymous: anonymousCaller,
  authenticated: keyCaller("member", "authenticated"),
  authenticatedWithGrant: keyCaller("member-granted", "authenticated", ["ops"]),
  restrictedNoGrant: keyCaller("restricted-bare", "restricted"),
  restrictedToolGrant: keyCaller("restricted-tool", "restricted", ["ops"]),
  restrictedCategoryGrant: keyCaller("restricted-cat", "restricted", ["category:ops"]),
  restrictedOtherCategory: keyCaller("restricted-other", "restricted", ["category:db"]),
  restrictedAnyCategory: keyCaller("restricted-star", "restricted", ["category:*"]),
  admin: keyCaller("admin", "admin"),
  badKey: { name: "bad-key", key: "not-a-configured-key", entry: undefined } satisfies TestCaller,
} as const;

// "hidden": a tool the caller may not list answers not_found, word for word as a missing one.
type Outcome = "ok" | "unauthenticated" | "hidden";
// The rules written out by hand, not computed by the code under test.
const expected: Record<keyof typeof callers, Record<"open" | "members" | "ops" | "root", Outcome>> = {
  anonymous: { open: "ok", members: "hidden", ops: "hidden", root: "hidden" },
  authenticated: { open: "ok", members: "ok", ops: "hidden", root: "hidden" },
  authenticatedWithGrant: { open: "ok", members: "ok", ops: "hidden", root: "hidden" },
  restrictedNoGrant: { open: "ok", members: "ok", ops: "hidden", root: "hidden" },
  restrictedToolGrant: { open: "ok", members: "ok", ops: "ok", root: "hidden" },
  restrictedCategoryGrant: { open: "ok", members: "ok", ops: "ok", root: "hidden" },
  restrictedOtherCategory: { open: "ok", members: "ok", ops: "hidden", root: "hidden" },
  restrictedAnyCategory: { open: "ok", members: "ok", ops: "ok", root: "hidden" },
  admin: { open: "ok", members: "ok", ops: "ok", root: "ok" },
  badKey: { open: "unauthenticated", members: "unauthenticated", ops: "unauthenticated", root: "unauthenticated" },
};

let server: TestServer;
beforeAll(async () => {
  const apiKeys = Object.values(callers).flatMap((c) => (c.entry === undefined ? [] : [c.entry]));
  server = await startServer({ tools, authenticate: createAuthenticator({ apiKeys }) });
});
afterAll(() => server.close());

const cases = Object.entries(callers).flatMap(([callerName, caller]) =>
  (["open", "members", "ops", "root"] as const).map((toolName) => ({
    callerName,
    caller,
    toolName,
    outcome: expected[callerName as keyof typeof callers][toolName],
  })),
);

const transports = protocolCases.filter((p) => ["connect json over HTTP/1.1", "gRPC over HTTP/2", "gRPC-Web over HTTP/1.1"].includes(p.name));

describe.each(transports)("caller level × tool level × grant over $name", (protocol) => {
  it.each(cases)("$callerName calling $toolName: $outcome", async ({ caller, toolName, outcome }) => {
    const client = createClient(ToolService, protocol.transport(server.url));
    const call = client.callTool({ name: toolName, arguments: {} }, { headers: authHeaders(caller) });
    if (outcome === "ok") {
      const res = await call;
      expect(res.isError).toBe(false);
      expect(res.structuredContent).toEqual({ caller: caller.entry?.id ?? "anonymous" });
      return;
    }
    const err = await call.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    if (outcome === "unauthenticated") {
      expect(err?.code).toBe(Code.Unauthenticated);
      return;
    }
    expect(err?.code).toBe(Code.NotFound);
    expect(err?.rawMessage).toBe(`tool "${toolName}" not found`);
  });
});

describe("caller level × tool level × grant over curl", () => {
  it.each(cases)("$callerName calling $toolName: $outcome", async ({ caller, toolName, outcome }) => {
    const headers = Object.entries(authHeaders(caller, "x-api-key")).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
    const { stdout } = await run("curl", [
      "-s",
      "-w",
      "\n%{http_code}",
      "-H",
      "content-type: application/json",
      ...headers,
      "-d",
      JSON.stringify({ name: toolName, arguments: {} }),
      `${server.url}/toolwire.v1.ToolService/CallTool`,
    ]);
    const [body = "", status] = stdout.split(/\n(?=\d+$)/);
    const json = JSON.parse(body) as { code?: string; message?: string; isError?: boolean };
    if (outcome === "ok") {
      expect(status).toBe("200");
      expect(json.isError).toBeUndefined();
      return;
    }
    expect(json.code).toBe(outcome === "unauthenticated" ? "unauthenticated" : "not_found");
    expect(status).toBe(outcome === "unauthenticated" ? "401" : "404");
  });
});

describe("listings show only what the caller may call", () => {
  const visible: [keyof typeof callers, string[]][] = [
    ["anonymous", ["open"]],
    ["authenticated", ["members", "open"]],
    ["restrictedNoGrant", ["members", "open"]],
    ["restrictedCategoryGrant", ["members", "open", "ops"]],
    ["admin", ["members", "open", "ops", "root"]],
  ];
  it.each(visible)("%s sees %j", async (callerName, names) => {
    const client = createClient(ToolService, protocolCases[0]!.transport(server.url));
    const res = await client.listTools({}, { headers: authHeaders(callers[callerName]) });
    expect(res.tools.map((t) => t.name).sort()).toEqual(names);
  });

  it("answers GetTool of a tool above the caller as if it did not exist, with any version asked for", async () => {
    const client = createClient(ToolService, protocolCases[0]!.transport(server.url));
    const headers = authHeaders(callers.authenticated);
    const answers = await Promise.all(
      [
        { name: "root" },
        { name: "no-such-tool" },
        { name: "root", version: "1.0.0" },
        { name: "root", version: "^2" },
        { name: "root", version: "not a range" },
      ].map((req) => client.getTool(req, { headers }).catch((e: unknown) => ConnectError.from(e))),
    );
    expect(answers.map((e) => [(e as ConnectError).code, (e as ConnectError).rawMessage])).toEqual([
      [Code.NotFound, 'tool "root" not found'],
      [Code.NotFound, 'tool "no-such-tool" not found'],
      [Code.NotFound, 'tool "root" not found'],
      [Code.NotFound, 'tool "root" not found'],
      [Code.NotFound, 'tool "root" not found'],
    ]);
  });

  it("refuses a listing with a bad credential instead of showing the public tools", async () => {
    const client = createClient(ToolService, protocolCases[0]!.transport(server.url));
    const err = await client.listTools({}, { headers: authHeaders(callers.badKey) }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});

describe("audit of refusals outside tool calls", () => {
  it("logs a bad credential on a listing as a warning, without the credential", async () => {
    const { pino } = await import("pino");
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const audited = await startServer({ tools, logger, authenticate: createAuthenticator({ apiKeys: [callers.admin.entry!] }) });
    try {
      const client = createClient(ToolService, protocolCases[0]!.transport(audited.url));
      await client.listTools({}, { headers: { "x-api-key": "guessed-admin-key-123" } }).catch(() => undefined);
      const refused = lines.filter((l) => l.msg === "request refused");
      expect(refused).toEqual([
        expect.objectContaining({ level: 40, code: "unauthenticated", protocol: "connect", peer: "127.0.0.1", reason: "invalid credentials: unknown API key" }),
      ]);
      expect(JSON.stringify(lines)).not.toContain("guessed-admin-key");
    } finally {
      await audited.close();
    }
  });
});
