import { describe, expect, it } from "vitest";
import { ConfigError, parseRedisUrl } from "../../src/config/index.js";

const parse = (url: string) => parseRedisUrl(url, "environment variable REDIS_URL", "/redis/url");

describe("parseRedisUrl", () => {
  it("reads host, port, user, decoded password and database as ioredis would", () => {
    expect(parse("redis://toolwire:p%40ss%2Fword@redis.internal:6380/2")).toEqual({
      host: "redis.internal",
      port: 6380,
      username: "toolwire",
      password: "p@ss/word",
      db: 2,
      family: undefined,
      tls: false,
    });
  });

  it("defaults the port, unwraps IPv6, reads credentials and family from the query, and notes TLS", () => {
    expect(parse("rediss://[::1]?password=secret&db=3&family=6")).toEqual({
      host: "::1",
      port: 6379,
      username: undefined,
      password: "secret",
      db: 3,
      family: 6,
      tls: true,
    });
  });

  it.each([
    ["redis://:hunter2/secret@127.0.0.1:6379", "is not a valid URL"],
    ["redis://:hunter2#secret@127.0.0.1:6379", "is not a valid URL"],
    ["hunter2-secret", "is not a valid URL"],
    ["http://:hunter2-secret@127.0.0.1:6379", "must be a redis:// or rediss:// URL, not http:"],
    ["redis:///0?password=hunter2-secret", "names no host"],
    ["redis:/hunter2-secret", "names no host"],
    ["redis://127.0.0.1:6379/zero?password=hunter2-secret", "names a database that is not a number"],
    ["redis://127.0.0.1:6379?tls=hunter2-secret", 'has the query parameter "tls"'],
  ])("refuses %s without repeating the secret", (url, reason) => {
    let error: unknown;
    try {
      parse(url);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain("invalid configuration environment variable REDIS_URL:");
    expect(message).toContain(`/redis/url: ${reason}`);
    expect(message).not.toContain("hunter2");
  });
});
