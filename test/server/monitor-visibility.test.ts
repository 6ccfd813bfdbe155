import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { toJsonString } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventSchema, EventType, type Event } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { defineTool } from "../../src/registry/index.js";
import { createAuthenticator } from "../../src/security/index.js";
import { echo } from "../../src/tools/echo.js";
import { authHeaders, keyCaller, type TestCaller } from "../helpers/security.js";
import { protocolCases, toolClient, type TestServer } from "../helpers/server.js";
import { eventNames, monitorClient, readWatch, startMonitoredServer, withHeaders } from "./monitor-helpers.js";

const member = keyCaller("member", "authenticated");
const operator = keyCaller("operator", "restricted");
const keeper = keyCaller("keeper", "restricted", ["vault"]);
const root = keyCaller("root", "admin");

/** A restricted tool whose arguments hold a secret and name a property nobody else should learn. */
function vaultTool(name: string) {
  return defineTool(
    {
      name,
      version: "1.0.0",
      description: "keeps secrets",
      securityLevel: "restricted",
      input: { type: "object", additionalProperties: false, required: ["password"], properties: { password: { type: "string" } } },
    },
    () => ({ ok: true }),
  );
}
const vault = vaultTool("vault");

let server: TestServer;
beforeAll(async () => {
  server = await startMonitoredServer({
    tools: [echo, vault],
    authenticate: createAuthenticator({ apiKeys: [member, operator, keeper, root].map((c) => c.entry).filter((e) => e !== undefined) }),
    monitoring: { access: { events: "authenticated" }, includeArguments: true },
  });
  // What the watchers below look back on: the vault's calls (a success, a refusal for bad
  // arguments, two denials), then one echo call that marks the end.
  await tools(keeper).callTool({ name: "vault", arguments: { password: "hunter2" } });
  const invalid = await refusal(tools(keeper).callTool({ name: "vault", arguments: { password: 42 } }));
  expect(invalid.code).toBe(Code.InvalidArgument);
  expect(invalid.rawMessage).toContain("/password");
  // Hidden from these two callers, the vault answers them as a tool that does not exist; the events
  // record the refusals as they were.
  expect((await refusal(tools().callTool({ name: "vault", arguments: { password: "guess" } }))).code).toBe(Code.NotFound);
  expect((await refusal(tools(operator).callTool({ name: "vault", arguments: { password: "guess" } }))).code).toBe(Code.NotFound);
  await tools(member).callTool({ name: "echo", arguments: { message: "the end" } });
});
afterAll(() => server.close());

function tools(caller?: TestCaller) {
  const headers = caller === undefined ? {} : authHeaders(caller);
  return toolClient(server.url, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: [withHeaders(headers)] }));
}

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  return promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (err: unknown) => ConnectError.from(err),
  );
}

const endOfHistory = (events: readonly Event[]) => events.some((e) => e.type === EventType.TOOL_SUCCEEDED && e.toolName === "echo");

/** Everything a watcher was shown, as text to look for secrets in. */
function shown(events: readonly Event[]): string {
  return events.map((e) => toJsonString(EventSchema, e)).join("\n");
}

describe.each(protocolCases.map((c) => [c.name, c] as const))("WatchEvents over %s", (_name, protocol) => {
  it("replays to a caller without the grant none of a restricted tool's events, arguments or property names", async () => {
    for (const caller of [member, operator]) {
      const client = monitorClient(server.url, protocol.transport(server.url));
      const result = await readWatch(
        (signal) => client.watchEvents({ afterSequence: 0n }, { signal, headers: authHeaders(caller) }),
        endOfHistory,
      );
      expect(result.error).toBeUndefined();
      expect(eventNames(result.events).filter((name) => name.endsWith(":vault"))).toEqual([]);
      expect(eventNames(result.events)).toContain("TOOL_SUCCEEDED:echo");
      expect(shown(result.events)).not.toMatch(/hunter2|password|vault/);
    }
  });
});

describe("event visibility", () => {
  it("shows an admin every event of the restricted tool, with its arguments and validation messages", async () => {
    const client = monitorClient(server.url, createGrpcTransport({ baseUrl: server.url }));
    const result = await readWatch((signal) => client.watchEvents({ afterSequence: 0n, tools: ["vault", "echo"] }, { signal, headers: authHeaders(root) }), endOfHistory);
    expect(eventNames(result.events)).toEqual([
      "TOOL_CALLED:vault",
      "TOOL_SUCCEEDED:vault",
      "TOOL_FAILED:vault",
      "TOOL_DENIED:vault",
      "TOOL_DENIED:vault",
      "TOOL_CALLED:echo",
      "TOOL_SUCCEEDED:echo",
    ]);
    expect(result.events[0]?.arguments).toEqual({ password: "hunter2" });
    expect(result.events[2]?.message).toContain("/password");
    expect(result.events[3]?.message).toContain('tool "vault" requires the restricted level');
    expect(result.events[4]?.message).toContain('tool "vault" is restricted; caller "operator" needs a grant');
  });

  it("shows a caller with the grant the restricted tool's events, as ListTools lists it to that caller", async () => {
    const listed = await tools(keeper).listTools({});
    expect(listed.tools.map((t) => t.name)).toContain("vault");
    const client = monitorClient(server.url, createGrpcTransport({ baseUrl: server.url }));
    const result = await readWatch((signal) => client.watchEvents({ afterSequence: 0n, tools: ["vault", "echo"] }, { signal, headers: authHeaders(keeper) }), endOfHistory);
    expect(eventNames(result.events).filter((name) => name.endsWith(":vault"))).toHaveLength(5);
  });

  it("keeps a restricted tool's live events, its registration included, from a caller without the grant", async () => {
    const client = monitorClient(server.url, createGrpcTransport({ baseUrl: server.url }));
    let calling: Promise<unknown> | undefined;
    const result = await readWatch(
      (signal) => client.watchEvents({}, { signal, headers: authHeaders(member) }),
      endOfHistory,
      (message) => {
        if (message.kind.case !== "heartbeat" || calling !== undefined) return;
        calling = (async () => {
          server.server.registry.register(vaultTool("vault_two"));
          await tools(keeper).callTool({ name: "vault", arguments: { password: "hunter2" } });
          await tools(member).callTool({ name: "echo", arguments: { message: "live end" } });
        })();
      },
    );
    await calling;
    expect(eventNames(result.events)).toEqual(["TOOL_CALLED:echo", "TOOL_SUCCEEDED:echo"]);
  });

  it("streams over /events to a caller without the grant none of the restricted tool's events", async () => {
    for (const caller of [member, operator]) {
      const text = await readSse(`${server.url}/events?after_sequence=0`, authHeaders(caller), '"toolName":"echo"');
      expect(text).toContain("event: tool_succeeded");
      expect(text).not.toMatch(/hunter2|password|vault/);
    }
    const admin = await readSse(`${server.url}/events?after_sequence=0&types=tool_called`, authHeaders(root), '"toolName":"echo"');
    expect(admin).toContain('"arguments":{"password":"hunter2"}');
  });
});

/** Reads `/events` until the text holds `until` in a tool_succeeded event, then hangs up. */
async function readSse(url: string, headers: Record<string, string>, until: string): Promise<string> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const blocks = text.split("\n\n");
      if (blocks.some((block) => block.includes(until) && (block.includes("event: tool_succeeded") || block.includes("event: tool_called")))) break;
    }
  } finally {
    controller.abort();
  }
  return text;
}
