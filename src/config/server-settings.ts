import type { JSONWebKeySet } from "jose";
import { resolve } from "node:path";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ToolwireConfig } from "../../gen/schema/config.js";
import type { Authenticator } from "../runtime/caller.js";
import type { RequestLimits } from "../runtime/call-pipeline.js";
import { createAuthenticator } from "../security/authenticator.js";
import { createJwtVerifier, type JwtVerifier } from "../security/jwt.js";
import { createToolRateLimiter, type ToolRateLimiter } from "../security/rate-limit.js";
import type { SecurityLevelName } from "../security/security-level.js";
import { ConfigError } from "./config-error.js";
import { readConfigFile, readSecret, type ResolveContext } from "./secrets.js";

/** Everything a validated configuration resolves to, ready to build a server from. */
export interface ServerSettings {
  /** Interface to listen on. */
  readonly host: string;
  /** Port to listen on. */
  readonly port: number;
  /** TLS certificate and key, when configured. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  /** Shutdown grace period, in ms. */
  readonly shutdownGraceMs: number | undefined;
  /** Timeout of tools whose manifest sets none, in ms. */
  readonly defaultTimeoutMs: number | undefined;
  /** Host header allow-list. */
  readonly allowedHosts: readonly string[] | undefined;
  /** CORS origins. */
  readonly corsOrigins: readonly string[] | undefined;
  /** Limits against abuse, as the server options name them. */
  readonly limits: {
    readonly maxBodyBytes?: number | undefined;
    readonly maxPlainBodyBytes?: number | undefined;
    readonly maxArgumentDepth?: number | undefined;
    readonly defaultMaxConcurrency?: number | undefined;
    readonly maxStreamDurationMs?: number | undefined;
    readonly headersTimeoutMs?: number | undefined;
    readonly idleTimeoutMs?: number | undefined;
    readonly maxHeaderBytes?: number | undefined;
    readonly maxConcurrentStreams?: number | undefined;
  };
  /** Identifies callers from API keys and JWTs (anonymous when none are configured). */
  readonly authenticate: Authenticator;
  /** Rate limiter: in memory, or in Redis when configured. */
  readonly rateLimiter: ToolRateLimiter;
  /** Server-wide request budgets. */
  readonly requestLimits: RequestLimits;
  /** Log level and format. */
  readonly logging: { readonly level: string; readonly pretty: boolean };
  /** Who may read monitoring data, and whether events carry arguments. */
  readonly monitoring: { readonly level: SecurityLevelName; readonly includeArguments: boolean };
  /** Whether /mcp keeps 2025-era sessions. */
  readonly mcpSessions: boolean;
  /** Plugin directories, resolved against the config file's directory. */
  readonly pluginDirs: readonly string[];
  /** The Redis client, when configured (shared by every feature that uses Redis). */
  readonly redis: Redis | undefined;
  /** Releases what resolving opened (the Redis connection). */
  close(): Promise<void>;
}

/** What resolving a config needs besides the config. */
export interface ResolveSettingsContext extends ResolveContext {
  /** Where Redis connection trouble is reported. */
  readonly logger?: Logger | undefined;
}

/**
 * Resolves a validated config: reads secrets and key files, builds the authenticator, and
 * connects to Redis when configured (failing with a clear message when it cannot).
 */
export async function resolveServerSettings(config: ToolwireConfig, context: ResolveSettingsContext): Promise<ServerSettings> {
  const tls = config.server?.tls;
  const jwt = config.auth?.jwt;
  let verifyJwt: JwtVerifier | undefined;
  if (jwt !== undefined) {
    let jwks: JSONWebKeySet | undefined;
    if (jwt.jwksFile !== undefined) {
      try {
        jwks = JSON.parse(await readConfigFile(jwt.jwksFile, "/auth/jwt/jwksFile", context)) as JSONWebKeySet;
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        throw new ConfigError(jwt.jwksFile, [{ pointer: "/auth/jwt/jwksFile", keyword: "json", message: `is not JSON: ${(err as Error).message}` }]);
      }
    }
    try {
      verifyJwt = createJwtVerifier({
        secret: jwt.secret === undefined ? undefined : await readSecret(jwt.secret, "/auth/jwt/secret", context),
        publicKeyPem: jwt.publicKeyFile === undefined ? undefined : await readConfigFile(jwt.publicKeyFile, "/auth/jwt/publicKeyFile", context),
        jwks,
        algorithms: jwt.algorithms,
        issuer: jwt.issuer,
        audience: jwt.audience,
        clockToleranceSeconds: jwt.clockToleranceSeconds,
        levelClaim: jwt.levelClaim,
        grantsClaim: jwt.grantsClaim,
        defaultLevel: jwt.defaultLevel,
        maxLevel: jwt.maxLevel,
      });
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError("(auth.jwt)", [{ pointer: "/auth/jwt", keyword: "key", message: (err as Error).message }]);
    }
  }

  const tlsFiles =
    tls === undefined
      ? undefined
      : {
          cert: await readConfigFile(tls.certFile, "/server/tls/certFile", context),
          key: await readConfigFile(tls.keyFile, "/server/tls/keyFile", context),
        };

  // Last, so that no other setting can fail after the connection is open and leave it open.
  let redis: Redis | undefined;
  if (config.redis !== undefined) {
    const url = await readSecret(config.redis.url, "/redis/url", context);
    redis = await connectRedis(url, config.redis.connectTimeoutMs ?? 2_000, context.logger);
  }

  return {
    host: config.server?.host ?? "127.0.0.1",
    port: config.server?.port ?? 8081,
    tls: tlsFiles,
    shutdownGraceMs: config.server?.shutdownGraceMs,
    defaultTimeoutMs: config.server?.defaultTimeoutMs,
    allowedHosts: config.server?.allowedHosts,
    corsOrigins: config.server?.corsOrigins,
    limits: { ...config.limits },
    authenticate: createAuthenticator({ apiKeys: config.auth?.apiKeys, jwt: verifyJwt }),
    rateLimiter: createToolRateLimiter({ redis, keyPrefix: config.redis?.keyPrefix }),
    requestLimits: { perCaller: config.rateLimits?.perCaller, anonymousPerIp: config.rateLimits?.anonymousPerIp },
    logging: { level: config.logging?.level ?? "info", pretty: config.logging?.pretty ?? false },
    monitoring: { level: config.monitoring?.level ?? "public", includeArguments: config.monitoring?.includeArguments ?? false },
    mcpSessions: config.mcp?.sessions ?? false,
    pluginDirs: (config.pluginDirs ?? []).map((dir) => resolve(context.baseDir, dir)),
    redis,
    async close() {
      if (redis !== undefined) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}

/** A Redis URL fit for messages: the password replaced. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable Redis URL)";
  }
}

async function connectRedis(url: string, connectTimeout: number, logger: Logger | undefined): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout,
    // Commands fail fast while disconnected instead of queueing: callers fall back at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  // connect() only rejects with "Connection is closed."; the error event says why.
  let lastError: Error | undefined;
  redis.on("error", (err: Error) => {
    lastError = err;
    logger?.warn({ err: err.message, redis: redactRedisUrl(url) }, "redis error");
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${redactRedisUrl(url)}: ${(lastError ?? (err as Error)).message}`);
  }
  return redis;
}

