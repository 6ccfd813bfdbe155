import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { createAuthenticator } from "../../src/security/index.js";
import { authHeaders, keyCaller, type TestCaller } from "../helpers/security.js";
import type { TestServer } from "../helpers/server.js";
import { monitorClient, readWatch, startMonitoredServer, withHeaders } from "./monitor-helpers.js";

const member = keyCaller("member", "authenticated");
const operator = keyCaller("operator", "restricted");
const root = keyCaller("root", "admin");

const logLines: Record<string, unknown>[] = [];
let server: TestServer;
beforeAll(async () => {
  const logger = pino({ level: "warn" }, { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
  server = await startMonitoredServer({
    authenticate: createAuthenticator({ apiKeys: [member, operator, root].map((c) => c.entry).filter((e) => e !== undefined) }),
    logger,
    monitoring: { access: { events: "authenticated", stats: "admin", metrics: "restricted" } },
  });
});
afterAll(() => server.close());

function client(caller?: TestCaller) {
  const headers = caller === undefined ? {} : authHeaders(caller);
  return monitorClient(server.url, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: [withHeaders(headers)] }));
}

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (err: unknown) => ConnectError.from(err),
  );
}

describe("monitoring access levels", () => {
  it("asks an anonymous watcher for credentials when events need an authenticated caller", async () => {
    const result = await readWatch((signal) => client().watchEvents({}, { signal }));
    expect(result.error?.code).toBe(Code.Unauthenticated);
    expect(result.error?.rawMessage).toBe("watching events requires an authenticated caller; send credentials (Authorization: Bearer <key or token>)");
  });

  it("lets a caller at the required level watch", async () => {
    const result = await readWatch((signal) => client(member).watchEvents({}, { signal }), () => true, () => undefined);
    expect(result.error).toBeUndefined();
    expect(result.heartbeats).toBeGreaterThan(0);
  });

  it("denies a known caller below the level with permission_denied, and lets admin through", async () => {
    const err = await failure(client(operator).getStats({}));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toBe('reading statistics requires the admin level; caller "operator" has restricted');
    expect((await failure(client(member).getServerInfo({}))).code).toBe(Code.PermissionDenied);
    expect((await client(root).getStats({})).scope).toBeDefined();
  });

  it("refuses bad credentials with unauthenticated, however low the level", async () => {
    const bad = { name: "bad", key: "not-a-real-key-000000000", entry: undefined };
    const err = await failure(client(bad).getStats({}));
    expect(err.code).toBe(Code.Unauthenticated);
  });

  it("guards /metrics and /events as plain HTTP: 401 with WWW-Authenticate, 403, then 200", async () => {
    const anonymous = await fetch(`${server.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
    expect(await anonymous.json()).toEqual({
      code: "unauthenticated",
      message: "reading metrics requires the restricted level; send credentials (Authorization: Bearer <key or token>)",
    });
    const low = await fetch(`${server.url}/metrics`, { headers: authHeaders(member) });
    expect(low.status).toBe(403);
    expect(((await low.json()) as { code: string }).code).toBe("permission_denied");
    const ok = await fetch(`${server.url}/metrics`, { headers: authHeaders(operator, "x-api-key") });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("toolwire_tool_calls_total");

    expect((await fetch(`${server.url}/events?limit=1`)).status).toBe(401);
    const events = await fetch(`${server.url}/events?after_sequence=0&limit=1`, { headers: authHeaders(member) });
    expect(events.status).toBe(200);
    expect(await events.text()).toContain("event: server_status");
  });

  it("keeps health checks open, as the standard protocol expects", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    expect((await health.check({})).status).toBe(ServingStatus.SERVING);
  });

  it("logs each denial as a warning with the caller, the surface and the reason, never the credential", async () => {
    const warnings = logLines.filter((l) => l.msg === "monitoring access denied");
    expect(warnings.length).toBeGreaterThanOrEqual(5);
    expect(warnings).toContainEqual(
      expect.objectContaining({
        level: 40,
        surface: "stats",
        callerId: "operator",
        code: "PermissionDenied",
        reason: 'reading statistics requires the admin level; caller "operator" has restricted',
      }),
    );
    const text = JSON.stringify(logLines);
    for (const caller of [member, operator, root]) expect(text).not.toContain(caller.key);
    expect(text).not.toContain("not-a-real-key");
  });
});
