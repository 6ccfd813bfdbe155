import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { exportJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  loadConfigFile,
  redactRedisUrl,
  resolveServerSettings,
  type ServerSettings,
  type ToolwireConfig,
} from "../../src/config/index.js";
import type { CallerInfo } from "../../src/runtime/caller.js";
import { hashApiKey } from "../../src/security/index.js";
import { closedPort } from "../helpers/ports.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";

const jwtSecret = "server-settings-test-secret-32-bytes!!";
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolwire-settings-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Resolves a config as `toolwire serve` does, closing what it opened when the test ends. */
const opened: ServerSettings[] = [];
afterAll(async () => {
  for (const settings of opened.splice(0)) await settings.close();
});
async function resolveConfig(config: ToolwireConfig, env: Record<string, string> = {}, baseDir = dir): Promise<ServerSettings> {
  const settings = await resolveServerSettings(config, { baseDir, env });
  opened.push(settings);
  return settings;
}

async function failure(config: ToolwireConfig, env: Record<string, string> = {}): Promise<Error> {
  const error = await resolveConfig(config, env).then(
    () => {
      throw new Error("the config resolved");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

const bearer = (token: string): CallerInfo => ({ headers: new Headers({ authorization: `Bearer ${token}` }), protocol: "connect" });
const hs256 = (claims: Record<string, unknown> = {}, secret = jwtSecret) =>
  new SignJWT({ sub: "alice", ...claims }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode(secret));

describe("resolveServerSettings", () => {
  it("passes tools.executeCommand on to the execute_command tool", async () => {
    const settings = await resolveConfig({ tools: { executeCommand: { allowCommands: ["git", "ls"], maxResponseBytes: 65_536 } } });
    expect(settings.executeCommand).toEqual({ allowCommands: ["git", "ls"], maxResponseBytes: 65_536 });
  });

  it("fills the documented defaults for an empty config", async () => {
    const settings = await resolveConfig({});
    expect(settings).toMatchObject({
      host: "127.0.0.1",
      port: 8081,
      tls: undefined,
      logging: { level: "info", pretty: "auto" },
      monitoring: { level: "public", includeArguments: false },
      pluginDirs: [],
      executeCommand: {},
      redis: undefined,
      revealHiddenTools: false,
    });
    expect(await settings.authenticate({ headers: new Headers(), protocol: "connect" })).toMatchObject({ anonymous: true });
  });

  it("reveals refusals of hidden tools only when auth.revealHiddenTools says so", async () => {
    expect((await resolveConfig({ auth: { revealHiddenTools: true } })).revealHiddenTools).toBe(true);
    expect((await resolveConfig({ auth: { revealHiddenTools: false } })).revealHiddenTools).toBe(false);
  });

  it("keeps monitoring from anonymous callers once credentials are configured, unless the config says otherwise", async () => {
    const apiKeys = [{ id: "ci-bot", sha256: hashApiKey("tw_key"), level: "admin" as const }];
    expect((await resolveConfig({ auth: { apiKeys } })).monitoring.level).toBe("authenticated");
    expect((await resolveConfig({ auth: { jwt: { secret: { env: "S" } } } }, { S: jwtSecret })).monitoring.level).toBe("authenticated");
    expect((await resolveConfig({ auth: { apiKeys }, monitoring: { level: "public" } })).monitoring.level).toBe("public");
  });

  it("passes on the byte bounds of events: the replay buffer and one event's arguments", async () => {
    const settings = await resolveConfig({ monitoring: { includeArguments: true, eventBufferBytes: 1_048_576, eventArgumentsMaxBytes: 4096 } });
    expect(settings.monitoring).toEqual({ level: "public", includeArguments: true, eventBufferBytes: 1_048_576, eventArgumentsMaxBytes: 4096 });
  });

  it("builds an authenticator from the configured API keys", async () => {
    const settings = await resolveConfig({ auth: { apiKeys: [{ id: "ci-bot", sha256: hashApiKey("tw_key"), level: "admin" }] } });
    expect(await settings.authenticate(bearer("tw_key"))).toEqual({ id: "ci-bot", level: "admin", grants: [], anonymous: false });
    const error = await Promise.resolve()
      .then(() => settings.authenticate(bearer("tw_other")))
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.Unauthenticated });
  });

  it("verifies JWTs with a secret from the environment and the configured claims", async () => {
    const settings = await resolveConfig(
      { auth: { jwt: { secret: { env: "MY_JWT_SECRET" }, audience: "toolwire", maxLevel: "restricted" } } },
      { MY_JWT_SECRET: jwtSecret },
    );
    expect(await settings.authenticate(bearer(await hs256({ aud: "toolwire", toolwire_level: "restricted" })))).toMatchObject({
      id: "jwt:alice",
      level: "restricted",
    });
    const tooHigh = await Promise.resolve(settings.authenticate(bearer(await hs256({ aud: "toolwire", toolwire_level: "admin" })))).catch(
      (e: unknown) => ConnectError.from(e),
    );
    expect(tooHigh).toMatchObject({ code: Code.Unauthenticated });
  });

  it("reads a JWT secret file relative to the config file's directory", async () => {
    const configDir = await mkdtemp(join(dir, "conf-"));
    await writeFile(join(configDir, "jwt.secret"), `${jwtSecret}\n`);
    const configPath = join(configDir, "toolwire.json");
    await writeFile(configPath, JSON.stringify({ auth: { jwt: { secret: { file: "jwt.secret" } } } }));
    // The process's working directory is elsewhere; only the config's directory holds the file.
    const settings = await resolveConfig(await loadConfigFile(configPath), {}, dirname(configPath));
    expect((await settings.authenticate(bearer(await hs256()))).id).toBe("jwt:alice");
  });

  it("verifies RS256 with a PEM public key file", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(join(dir, "rsa.pem"), publicKey.export({ type: "spki", format: "pem" }));
    const settings = await resolveConfig({ auth: { jwt: { publicKeyFile: "rsa.pem", issuer: "https://idp.example" } } });
    const token = await new SignJWT({ sub: "svc", iss: "https://idp.example" }).setProtectedHeader({ alg: "RS256" }).setExpirationTime("5m").sign(privateKey);
    expect((await settings.authenticate(bearer(token))).id).toBe("jwt:svc");
  });

  it("verifies ES256 with a local JWKS file", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await writeFile(join(dir, "keys.jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] }));
    const settings = await resolveConfig({ auth: { jwt: { jwksFile: "keys.jwks.json" } } });
    const token = await new SignJWT({ sub: "svc", toolwire_grants: "a b" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setExpirationTime("5m")
      .sign(privateKey);
    expect(await settings.authenticate(bearer(token))).toEqual({ id: "jwt:svc", level: "authenticated", grants: ["a", "b"], anonymous: false });
  });

  it("refuses a JWKS file that is not JSON, naming it", async () => {
    await writeFile(join(dir, "broken.jwks.json"), "{ keys: [");
    const error = await failure({ auth: { jwt: { jwksFile: "broken.jwks.json" } } });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("broken.jwks.json");
    expect(error.message).toContain("/auth/jwt/jwksFile: is not JSON");
  });

  it("refuses a JWKS file without keys", async () => {
    await writeFile(join(dir, "empty.jwks.json"), JSON.stringify({ notKeys: [] }));
    const error = await failure({ auth: { jwt: { jwksFile: "empty.jwks.json" } } });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("/auth/jwt:");
  });

  it("refuses a missing public key file, naming the resolved path and the setting", async () => {
    const error = await failure({ auth: { jwt: { publicKeyFile: "missing.pem" } } });
    expect(error.message).toBe(`invalid configuration ${join(dir, "missing.pem")}:\n  /auth/jwt/publicKeyFile: cannot be read: no such file`);
  });

  it("refuses a short HS256 secret without printing it", async () => {
    const error = await failure({ auth: { jwt: { secret: { env: "SHORT" } } } }, { SHORT: "tiny-secret" });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("/auth/jwt: the JWT HS256 secret must be at least 32 bytes");
    expect(error.message).not.toContain("tiny-secret");
  });

  it("refuses an unset secret variable, naming the variable and the setting but no value", async () => {
    const error = await failure({ auth: { jwt: { secret: { env: "TOOLWIRE_JWT_SECRET" } } } }, { OTHER_SECRET: "do-not-print-me" });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe("invalid configuration environment:\n  /auth/jwt/secret: environment variable TOOLWIRE_JWT_SECRET is not set");
  });

  it("reads TLS files relative to the config file's directory", async () => {
    await writeFile(join(dir, "cert.pem"), "CERT");
    await writeFile(join(dir, "key.pem"), "KEY");
    const settings = await resolveConfig({ server: { tls: { certFile: "cert.pem", keyFile: "key.pem" } } });
    expect(settings.tls).toEqual({ cert: "CERT", key: "KEY" });
  });
});

describe("Redis in the settings", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it("fails clearly with the password redacted when nothing listens at the URL", async () => {
    const port = await closedPort();
    const error = await failure({ redis: { url: { env: "REDIS_URL" }, connectTimeoutMs: 1000 } }, {
      REDIS_URL: `redis://toolwire:hunter2-password@127.0.0.1:${port}/0`,
    });
    expect(error.message).toContain(`cannot reach Redis at redis://toolwire:***@127.0.0.1:${port}/0`);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).not.toContain("hunter2-password");
  });

  it("connects to a real Redis with the URL from a file, and closes it", async () => {
    await writeFile(join(dir, "redis.url"), `${redis.url}\n`);
    const settings = await resolveServerSettings({ redis: { url: { file: "redis.url" } } }, { baseDir: dir, env: {} });
    expect(await settings.redis?.ping()).toBe("PONG");
    await settings.close();
    await expect.poll(() => settings.redis?.status).toBe("end");
  });

  it("opens no Redis connection when a later setting fails", async () => {
    const before = await connectedClients();
    const error = await failure({
      redis: { url: redis.url },
      server: { tls: { certFile: "no-such-cert.pem", keyFile: "no-such-key.pem" } },
    });
    expect(error.message).toContain("/server/tls/certFile: cannot be read: no such file");
    expect(await connectedClients()).toBe(before);
  });

  async function connectedClients(): Promise<number> {
    const list = (await redis.client.call("CLIENT", "LIST")) as string;
    return list.trim().split("\n").length;
  }
});

describe("redactRedisUrl", () => {
  it.each([
    ["redis://:secret@host:6379", "redis://:***@host:6379"],
    ["rediss://user:p%40ss@host:6380/2", "rediss://user:***@host:6380/2"],
    ["redis://host:6379", "redis://host:6379"],
    ["redis://host:6379/0?password=secret&db=3", "redis://host:6379/0"],
    ["redis://user@host:6379#secret", "redis://user@host:6379"],
  ])("redacts %s", (url, redacted) => {
    expect(redactRedisUrl(url)).toBe(redacted);
  });

  it("never echoes an unparsable URL, which might hold a password", () => {
    expect(redactRedisUrl("not a url :secret@")).toBe("(unparsable Redis URL)");
  });
});
