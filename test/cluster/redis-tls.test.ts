import { execFile, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MonitorService, ServerStatus, StatsScope } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { ToolwireConfig } from "../../gen/schema/config.js";
import { hashApiKey } from "../../src/security/index.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { toolClient } from "../helpers/server.js";
import { killChild, waitForOutput } from "../helpers/processes.js";
import { spawnServe, startServe, type ServeProcess } from "../helpers/serve-process.js";
import { collect, writeConfig } from "./cluster-helpers.js";

const run = promisify(execFile);
const apiKey = "redis-tls-test-key";

/** Makes a self-signed CA in `dir` (`<name>.pem`, `<name>-key.pem`) and returns its certificate's path. */
async function makeCa(dir: string, name: string): Promise<string> {
  await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", `/CN=Toolwire test ${name}`, "-keyout", join(dir, `${name}-key.pem`), "-out", join(dir, `${name}.pem`),
  ]);
  return join(dir, `${name}.pem`);
}

/** Issues a server certificate for `subjectAltName`, signed by the CA `ca` made by {@link makeCa}. */
async function issueCert(dir: string, ca: string, name: string, subjectAltName: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  await run("openssl", [
    "req", "-x509", "-CA", join(dir, `${ca}.pem`), "-CAkey", join(dir, `${ca}-key.pem`),
    "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", `/CN=${name}`,
    "-addext", `subjectAltName=${subjectAltName}`, "-addext", "basicConstraints=CA:FALSE",
    "-keyout", keyFile, "-out", certFile,
  ]);
  return { certFile, keyFile };
}

function monitor(url: string): Client<typeof MonitorService> {
  return createClient(MonitorService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
}

describe("Redis over TLS", () => {
  let dir: string;
  let caFile: string;
  let otherCaFile: string;
  let redis: TestRedis;
  const children: ChildProcess[] = [];
  const configDirs: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "toolwire-redis-tls-"));
    caFile = await makeCa(dir, "ca");
    otherCaFile = await makeCa(dir, "other-ca");
    // Only a TLS port: whatever reaches this Redis came over TLS.
    redis = await startRedis({ tls: { ...(await issueCert(dir, "ca", "redis-ip", "IP:127.0.0.1")), caFile } });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) await killChild(child, "SIGTERM");
    for (const configDir of configDirs.splice(0)) await rm(configDir, { recursive: true, force: true });
    await redis.client.flushall();
  });
  afterAll(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A config whose tool calls carry an API key with a per-caller budget of `maxCalls`, while
   * monitoring stays public and unbudgeted, so that only tool calls spend the budget.
   */
  function config(redisSection: NonNullable<ToolwireConfig["redis"]>, maxCalls = 1_000): ToolwireConfig {
    return {
      auth: { apiKeys: [{ id: "tls-bot", sha256: hashApiKey(apiKey) }] },
      rateLimits: { perCaller: { maxCalls, windowSeconds: 60 } },
      monitoring: { level: "public" },
      redis: { heartbeatMs: 200, ...redisSection },
    };
  }

  async function serve(settings: ToolwireConfig): Promise<ServeProcess> {
    const path = await writeConfig(settings);
    configDirs.push(dirname(path));
    const served = await spawnServe(["--config", path]);
    children.push(served.child);
    return served;
  }

  /** Runs `toolwire serve` that must refuse to start; returns its exit code, its stderr and all it wrote. */
  async function refusedStart(settings: ToolwireConfig): Promise<{ code: number | null; stderr: string; output: string }> {
    const path = await writeConfig(settings);
    configDirs.push(dirname(path));
    const { child, stdout, stderr } = startServe(["--port", "0", "--config", path]);
    children.push(child);
    // A server that starts instead is reported at once (and stopped by afterEach), not waited for.
    const listening = waitForOutput(child, stdout, /toolwire listening/).then(
      () => "listening" as const,
      () => new Promise<never>(() => {}),
    );
    // "close" comes after the exit and the last of its output.
    const closed = once(child, "close").then(([code]) => code as number | null);
    const outcome = await Promise.race([closed, listening]);
    if (outcome === "listening") throw new Error(`started instead of refusing: ${stdout()}${stderr()}`);
    return { code: outcome, stderr: stderr(), output: stdout() + stderr() };
  }

  it("connects to Redis over TLS with the CA from redis.tls.caFile, sharing events and limits", async () => {
    // A budget of 5 calls per caller: cluster-wide only if both instances keep it in Redis.
    const settings = config({ url: redis.url, tls: { caFile } }, 5);
    const a = await serve(settings);
    const b = await serve(settings);
    const [monitorA, monitorB] = [monitor(a.url), monitor(b.url)];
    const infoA = await monitorA.getServerInfo({});
    const infoB = await monitorB.getServerInfo({});
    expect(infoA.status).toBe(ServerStatus.SERVING);
    expect(infoB.status).toBe(ServerStatus.SERVING);

    // Membership goes through Redis: each instance lists the other.
    await expect.poll(async () => (await monitorA.getServerInfo({})).peers.map((p) => p.url), { timeout: 10_000 }).toEqual([b.url]);
    await expect.poll(async () => (await monitorB.getServerInfo({})).peers.map((p) => p.url), { timeout: 10_000 }).toEqual([a.url]);

    const withKey = { headers: { "x-api-key": apiKey } };
    for (let i = 0; i < 3; i++) expect((await toolClient(a.url).callTool({ name: "echo", arguments: { message: `a${i}` } }, withKey)).isError).toBe(false);
    for (let i = 0; i < 2; i++) expect((await toolClient(b.url).callTool({ name: "echo", arguments: { message: `b${i}` } }, withKey)).isError).toBe(false);

    // Events: the shared stream, read on a, holds both instances' calls.
    const events = await collect(monitorA, 5, 0n);
    expect(new Set(events.map((e) => e.serverId))).toEqual(new Set([infoA.serverId, infoB.serverId]));
    // Statistics: b's counts reach a through its heartbeats.
    await expect
      .poll(async () => (await monitorA.getStats({ scope: StatsScope.CLUSTER })).tools.find((t) => t.name === "echo")?.calls, { timeout: 10_000 })
      .toBe(5n);

    // Limits: a made 3 of the 5 calls itself, so only a shared budget refuses its next one.
    const refused = await toolClient(a.url)
      .callTool({ name: "echo", arguments: { message: "one too many" } }, withKey)
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(refused?.code).toBe(Code.ResourceExhausted);

    // No fallback was involved: both still serve with Redis, and the budget lives in it.
    for (const url of [a.url, b.url]) expect(((await (await fetch(`${url}/health`)).json()) as { status: string }).status).toBe("serving");
    expect((await redis.client.keys("toolwire:rl:*")).length).toBeGreaterThan(0);
  });

  it.each([
    ["without redis.tls.caFile (only the system's CAs)", () => ({})],
    ["with redis.tls.caFile naming another CA", () => ({ tls: { caFile: otherCaFile } })],
  ])("refuses to start, naming the reason, when the Redis certificate is not trusted: %s", async (_name, tlsSection) => {
    // A password in the URL, to see it redacted from the message.
    const url = `rediss://:tls-test-secret@127.0.0.1:${redis.port}`;
    const { code, stderr, output } = await refusedStart(config({ url, ...tlsSection() }));
    expect(code).toBe(2);
    expect(stderr).toContain(`cannot reach Redis at rediss://:***@127.0.0.1:${redis.port}: `);
    expect(stderr).toMatch(/certificate|self-signed|unable to verify/i);
    expect(stderr).toContain('set redis.onUnavailable to "degraded"');
    expect(output).not.toContain("tls-test-secret");
    expect(output).not.toMatch(/^ {4}at /m);
  });

  describe("with a certificate issued for a name, not the address", () => {
    let named: TestRedis;

    beforeAll(async () => {
      named = await startRedis({ tls: { ...(await issueCert(dir, "ca", "redis-dns", "DNS:redis.test")), caFile, servername: "redis.test" } });
    });
    afterEach(async () => {
      await named.client.flushall();
    });
    afterAll(async () => {
      await named?.stop();
    });

    it("checks the certificate against redis.tls.servername instead of the URL's host", async () => {
      const served = await serve(config({ url: named.url, tls: { caFile, servername: "redis.test" } }));
      expect((await monitor(served.url).getServerInfo({})).status).toBe(ServerStatus.SERVING);
      // Its announcement reached this Redis, so the connection is really up.
      await expect.poll(async () => (await named.client.keys("toolwire:*")).length, { timeout: 10_000 }).toBeGreaterThan(0);
    });

    it("refuses to start, naming the mismatch, when no servername is set and the certificate does not name the URL's host", async () => {
      const { code, stderr, output } = await refusedStart(config({ url: named.url, tls: { caFile } }));
      expect(code).toBe(2);
      expect(stderr).toContain(`cannot reach Redis at rediss://127.0.0.1:${named.port}: `);
      expect(stderr).toMatch(/does not match certificate's altnames|not in the cert's list/);
      expect(output).not.toMatch(/^ {4}at /m);
    });
  });
});
