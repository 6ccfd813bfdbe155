import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  configFromEnv,
  loadConfigFile,
  mergeConfigs,
  readSecret,
  validateConfig,
  type ToolwireConfig,
} from "../../src/config/index.js";
import { hashApiKey } from "../../src/security/index.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolwire-config-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let files = 0;
/** Writes a config file (JSON unless a string is given) and returns its path. */
async function configFile(content: unknown): Promise<string> {
  const path = join(dir, `config-${++files}.json`);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

/** Loads a file that must be refused and returns the ConfigError. */
async function refused(content: unknown): Promise<{ error: ConfigError; path: string }> {
  const path = await configFile(content);
  const error = await loadConfigFile(path).then(
    () => {
      throw new Error("the config was accepted");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const configError = error as ConfigError;
  expect(configError.source).toBe(path);
  expect(configError.message).toContain(path);
  return { error: configError, path };
}

const sha256 = hashApiKey("tw_some-key");

describe("loadConfigFile", () => {
  it("loads a complete valid file as written, without adding defaults", async () => {
    const config: ToolwireConfig = {
      $schema: "../schemas/config.schema.json",
      server: { host: "0.0.0.0", port: 9000, allowedHosts: ["tools.example.com"], corsOrigins: ["https://app.example.com", "*"] },
      limits: { maxBodyBytes: 2048, maxArgumentDepth: 8 },
      auth: {
        apiKeys: [{ id: "ci-bot", sha256, level: "restricted", grants: ["execute_command", "category:ops", "category:*"] }],
        jwt: { secret: { env: "JWT_SECRET" }, issuer: "https://idp.example", audience: "toolwire", maxLevel: "restricted" },
      },
      rateLimits: { perCaller: { maxCalls: 100, windowSeconds: 60 } },
      redis: { url: { file: "redis-url.txt" }, keyPrefix: "tw:" },
      monitoring: { level: "authenticated", includeArguments: false },
      logging: { level: "warn", pretty: true },
      pluginDirs: ["./plugins"],
    };
    expect(await loadConfigFile(await configFile(config))).toEqual(config);
  });

  it("names the file, pointer and reason for a value of the wrong type", async () => {
    const { error } = await refused({ server: { port: "8081" } });
    expect(error.violations).toEqual([{ pointer: "/server/port", keyword: "type", message: "must be integer" }]);
    expect(error.message).toContain("/server/port: must be integer");
  });

  it("names an unknown property by its own pointer", async () => {
    const { error } = await refused({ server: { hots: "0.0.0.0" } });
    expect(error.message).toContain("/server/hots: is not allowed (unknown property)");
  });

  it("names an unknown top-level section", async () => {
    const { error } = await refused({ authentication: {} });
    expect(error.message).toContain("/authentication: is not allowed (unknown property)");
  });

  it("lists the levels when a level is misspelt", async () => {
    const { error } = await refused({ auth: { apiKeys: [{ id: "a", sha256, level: "root" }] } });
    expect(error.message).toContain('/auth/apiKeys/0/level: must be one of "public", "authenticated", "restricted", "admin"');
  });

  it("refuses a hash that is not 64 lower-case hex digits", async () => {
    const { error } = await refused({ auth: { apiKeys: [{ id: "a", sha256: sha256.slice(1) }] } });
    expect(error.violations[0]).toMatchObject({ pointer: "/auth/apiKeys/0/sha256", keyword: "pattern" });
  });

  it("refuses a CORS origin with a path or without a scheme", async () => {
    const { error } = await refused({ server: { corsOrigins: ["https://ok.example", "app.example.com", "https://a.example/path"] } });
    expect(error.violations.map((v) => v.pointer)).toEqual(["/server/corsOrigins/1", "/server/corsOrigins/2"]);
  });

  it("refuses a port out of range", async () => {
    const { error } = await refused({ server: { port: 70000 } });
    expect(error.message).toContain("/server/port: must be <= 65535");
  });

  it("reports every problem at once", async () => {
    const { error } = await refused({ server: { port: -1 }, logging: { level: "loud" }, pluginDirs: "plugins" });
    expect(error.violations.map((v) => v.pointer).sort()).toEqual(["/logging/level", "/pluginDirs", "/server/port"]);
  });

  it("refuses a file that is not JSON, saying so", async () => {
    const { error } = await refused('{ "server": { "port": 8081, } }');
    expect(error.violations).toHaveLength(1);
    expect(error.message).toContain("(root): is not JSON");
  });

  it("says at which line and column a file stops being JSON", async () => {
    const trailingComma = await refused('{\n  "server": {\n    "port": 8081,\n  }\n}');
    expect(trailingComma.error.message).toContain("(root): is not JSON: line 4, column 3: Expected double-quoted property name");
    const badValue = await refused('{\r\n  "logging": { "pretty": ture }\r\n}');
    expect(badValue.error.message).toContain("(root): is not JSON: line 2, column 27: Unexpected token 'u'");
    const truncated = await refused('{\n  "server": {');
    expect((await refused("")).error.message).toContain("(root): is not JSON: line 1, column 1: Unexpected end of JSON input");
    expect(truncated.error.message).toContain("(root): is not JSON: line 2, column 14: Expected property name or '}'");
  });

  it("reads a file saved with a byte order mark", async () => {
    expect(await loadConfigFile(await configFile('\uFEFF{ "server": { "port": 8081 } }'))).toEqual({ server: { port: 8081 } });
  });

  it("suggests the known key closest to an unknown one", async () => {
    const { error } = await refused({ sever: {}, server: { hots: "0.0.0.0" }, redis: { url: { evn: "REDIS_URL" } } });
    expect(error.message).toContain('/sever: is not allowed (unknown property); did you mean "server"?');
    expect(error.message).toContain('/server/hots: is not allowed (unknown property); did you mean "host"?');
    expect(error.message).toContain('/redis/url/evn: is not allowed (unknown property); did you mean "env"?');
    const far = await refused({ weather: {} });
    expect(far.error.message).toMatch(/\/weather: is not allowed \(unknown property\)$/m);
  });

  it("refuses a JSON value that is not an object", async () => {
    const { error } = await refused("[]");
    expect(error.message).toContain("(root): must be object");
  });

  it("refuses a missing file, naming it", async () => {
    const path = join(dir, "does-not-exist.json");
    const error = await loadConfigFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`invalid configuration ${path}:\n  (root): cannot be read: no such file`);
  });

  it("refuses jwt settings with two key sources", async () => {
    const { error } = await refused({ auth: { jwt: { secret: { env: "S" }, publicKeyFile: "key.pem" } } });
    expect(error.violations).toEqual([
      { pointer: "/auth/jwt", keyword: "oneOf", message: "needs exactly one of secret, publicKeyFile or jwksFile" },
    ]);
  });

  it("refuses jwt settings without a key source", async () => {
    const { error } = await refused({ auth: { jwt: { issuer: "https://idp.example" } } });
    expect(error.message).toContain("/auth/jwt: needs exactly one of secret, publicKeyFile or jwksFile");
  });

  it("refuses a secret given as both env and file", async () => {
    const { error } = await refused({ auth: { jwt: { secret: { env: "S", file: "s.txt" } } } });
    expect(error.violations.every((v) => v.pointer.startsWith("/auth/jwt/secret"))).toBe(true);
  });

  it("refuses two API keys with the same id, pointing at the second", async () => {
    const { error } = await refused({
      auth: { apiKeys: [{ id: "bot", sha256 }, { id: "bot", sha256: hashApiKey("tw_other") }] },
    });
    expect(error.violations).toEqual([{ pointer: "/auth/apiKeys/1/id", keyword: "unique", message: 'repeats the id "bot"' }]);
  });
});

describe("validateConfig", () => {
  it("refuses a trusted proxy that is not an address or a CIDR range, pointing at it", () => {
    expect(() => validateConfig({ server: { trustedProxies: ["10.0.0.1", "10.0.0.0/40"] } }, "c.json")).toThrow(
      /\/server\/trustedProxies\/1: "10\.0\.0\.0\/40" is not an IP address or a CIDR range/,
    );
  });

  it("names the source it is given", () => {
    const error = (() => {
      try {
        validateConfig({ server: { port: 1.5 } }, "config.json with environment and flags");
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error?.message).toBe("invalid configuration config.json with environment and flags:\n  /server/port: must be integer");
  });
});

describe("configFromEnv", () => {
  it("gives nothing for an empty environment", () => {
    expect(configFromEnv({})).toEqual({});
  });

  it("reads every documented variable", () => {
    const config = configFromEnv({
      TOOLWIRE_HOST: "0.0.0.0",
      TOOLWIRE_PORT: "9090",
      TOOLWIRE_ALLOWED_HOSTS: "a.example, b.example:8443,",
      TOOLWIRE_CORS_ORIGINS: "https://app.example.com",
      TOOLWIRE_TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1",
      TOOLWIRE_MAX_BODY_BYTES: "4096",
      TOOLWIRE_LOG_LEVEL: "debug",
      TOOLWIRE_LOG_PRETTY: "1",
      TOOLWIRE_JWT_SECRET: "a-jwt-secret-that-must-not-be-copied",
      TOOLWIRE_REDIS_URL: "redis://:hunter2@127.0.0.1:6379",
      TOOLWIRE_PLUGIN_DIRS: "/opt/plugins,./more",
      UNRELATED: "x",
    });
    expect(config).toEqual({
      server: { host: "0.0.0.0", port: 9090, allowedHosts: ["a.example", "b.example:8443"], corsOrigins: ["https://app.example.com"], trustedProxies: ["10.0.0.0/8", "127.0.0.1"] },
      limits: { maxBodyBytes: 4096 },
      logging: { level: "debug", pretty: true },
      auth: { jwt: { secret: { env: "TOOLWIRE_JWT_SECRET" } } },
      redis: { url: { env: "TOOLWIRE_REDIS_URL" } },
      pluginDirs: ["/opt/plugins", "./more"],
    });
    // Secrets are referenced by name; their values never enter the config.
    expect(JSON.stringify(config)).not.toContain("hunter2");
    expect(JSON.stringify(config)).not.toContain("must-not-be-copied");
  });

  it.each(["abc", "80a", "8081.5", " ", "0x1f", "1e3"])("refuses TOOLWIRE_PORT=%j with a clear error", (value) => {
    let error: unknown;
    try {
      configFromEnv({ TOOLWIRE_PORT: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).source).toBe("environment");
    expect((error as ConfigError).message).toContain(`/server/port: TOOLWIRE_PORT="${value}" must be a whole number`);
  });

  it("leaves an out-of-range port to validation, which names the setting", () => {
    const env = configFromEnv({ TOOLWIRE_PORT: "99999" });
    expect(() => validateConfig(mergeConfigs({ server: { port: 8081 } }, env), "file with environment")).toThrow(
      "/server/port: must be <= 65535",
    );
  });

  it("reads TOOLWIRE_LOG_PRETTY=false as false", () => {
    expect(configFromEnv({ TOOLWIRE_LOG_PRETTY: "false" }).logging?.pretty).toBe(false);
  });
});

describe("mergeConfigs", () => {
  it("lets later configs win key by key and replaces arrays", () => {
    const merged = mergeConfigs(
      { server: { host: "127.0.0.1", port: 8081, allowedHosts: ["a", "b"] }, logging: { level: "info" } },
      { server: { port: 9000, allowedHosts: ["c"] } },
      { server: { host: undefined }, logging: { pretty: true } },
    );
    expect(merged).toEqual({ server: { host: "127.0.0.1", port: 9000, allowedHosts: ["c"] }, logging: { level: "info", pretty: true } });
  });

  it("replaces a secret reference whole, so an env secret overrides a file secret", () => {
    const file: ToolwireConfig = { auth: { jwt: { secret: { file: "jwt.secret" }, issuer: "https://idp" } }, redis: { url: { file: "redis.url" } } };
    const env = configFromEnv({ TOOLWIRE_JWT_SECRET: "x".repeat(40), TOOLWIRE_REDIS_URL: "redis://127.0.0.1" });
    const merged = validateConfig(mergeConfigs(file, env), "file with environment");
    expect(merged.auth?.jwt).toEqual({ secret: { env: "TOOLWIRE_JWT_SECRET" }, issuer: "https://idp" });
    expect(merged.redis?.url).toEqual({ env: "TOOLWIRE_REDIS_URL" });
  });

  it("does not change its inputs", () => {
    const file: ToolwireConfig = { server: { port: 1 } };
    mergeConfigs(file, { server: { port: 2 } });
    expect(file).toEqual({ server: { port: 1 } });
  });
});

describe("readSecret", () => {
  it("reads a secret from the environment", async () => {
    expect(await readSecret({ env: "MY_SECRET" }, "/auth/jwt/secret", { baseDir: dir, env: { MY_SECRET: "s3cr3t" } })).toBe("s3cr3t");
  });

  it("reads a secret from a file relative to the config file's directory, trimmed", async () => {
    await writeFile(join(dir, "jwt.secret"), "  file-secret-value\n");
    expect(await readSecret({ file: "jwt.secret" }, "/auth/jwt/secret", { baseDir: dir, env: {} })).toBe("file-secret-value");
    expect(await readSecret({ file: join(dir, "jwt.secret") }, "/auth/jwt/secret", { baseDir: "/", env: {} })).toBe("file-secret-value");
  });

  it("takes a literal secret as it is", async () => {
    expect(await readSecret("inline", "/redis/url", { baseDir: dir, env: {} })).toBe("inline");
  });

  it.each([
    ["unset", {}],
    ["empty", { JWT_SECRET_VAR: "" }],
  ])("refuses an %s environment variable, naming the variable and the setting", async (_name, env) => {
    const error = await readSecret({ env: "JWT_SECRET_VAR" }, "/auth/jwt/secret", { baseDir: dir, env: { OTHER: "some-other-value", ...env } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe("invalid configuration environment:\n  /auth/jwt/secret: environment variable JWT_SECRET_VAR is not set");
  });

  it("refuses a missing secret file, naming the resolved path and the setting", async () => {
    const error = await readSecret({ file: "nope.secret" }, "/redis/url", { baseDir: dir, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`invalid configuration ${join(dir, "nope.secret")}:\n  /redis/url: cannot be read: no such file`);
  });

  it("refuses an empty secret file rather than using an empty secret", async () => {
    await writeFile(join(dir, "empty.secret"), "\n  \n");
    const error = await readSecret({ file: "empty.secret" }, "/redis/url", { baseDir: dir, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(join(dir, "empty.secret"));
    expect((error as ConfigError).message).toContain("/redis/url: is empty");
  });
});
