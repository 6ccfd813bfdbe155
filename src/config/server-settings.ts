import type { JSONWebKeySet } from "jose";
import { resolve } from "node:path";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ToolwireConfig } from "../../gen/schema/config.js";
import type { Authenticator } from "../runtime/caller.js";
import type { RequestLimits } from "../runtime/call-pipeline.js";
import { createAuthenticator } from "../security/authenticator.js";
import type { JwtVerifier } from "../security/jwt.js";
import { createToolRateLimiter, type RateLimitFallback, type ToolRateLimiter } from "../security/rate-limit.js";
import type { SecurityLevelName } from "../security/security-level.js";
import { ConfigError } from "./config-error.js";
import { parseRedisUrl, redactRedisUrl, type RedisEndpoint } from "./redis-url.js";
import { readConfigFile, readSecret, type ResolveContext, type SecretRef } from "./secrets.js";

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
  /** Balancers whose X-Forwarded-For names the client. */
  readonly trustedProxies: readonly string[] | undefined;
  /** Limits against abuse, as the server options name them. */
  readonly limits: {
    readonly maxBodyBytes?: number | undefined;
    readonly maxPlainBodyBytes?: number | undefined;
    readonly maxArgumentDepth?: number | undefined;
    readonly defaultMaxConcurrency?: number | undefined;
    readonly maxStreamDurationMs?: number | undefined;
    readonly headersTimeoutMs?: number | undefined;
    readonly requestBodyTimeoutMs?: number | undefined;
    readonly maxConnections?: number | undefined;
    readonly idleTimeoutMs?: number | undefined;
    readonly maxHeaderBytes?: number | undefined;
    readonly maxConcurrentStreams?: number | undefined;
  };
  /** Identifies callers from API keys and JWTs (anonymous when none are configured). */
  readonly authenticate: Authenticator;
  /** Whether calls of tools hidden from the caller answer with the refusal instead of not_found. */
  readonly revealHiddenTools: boolean;
  /** Rate limiter: in memory, or in Redis when configured. */
  readonly rateLimiter: ToolRateLimiter;
  /** Server-wide request budgets. */
  readonly requestLimits: RequestLimits;
  /** Log level and format. */
  readonly logging: { readonly level: string; readonly pretty: boolean | "auto" };
  /** Who may read monitoring data, whether events carry arguments, and how much memory events may hold. */
  readonly monitoring: {
    readonly level: SecurityLevelName;
    readonly includeArguments: boolean;
    /** Bytes the in-memory replay buffer may hold, about; undefined: the default (64 MiB). */
    readonly eventBufferBytes?: number | undefined;
    /** Longest JSON of arguments one event carries; undefined: the default (64 KiB). */
    readonly eventArgumentsMaxBytes?: number | undefined;
  };
  /** Whether /mcp keeps 2025-era sessions. */
  readonly mcpSessions: boolean;
  /** Plugin directories, resolved against the config file's directory. */
  readonly pluginDirs: readonly string[];
  /** Settings of the execute_command tool: its allow-list and response limit, when configured. */
  readonly executeCommand: { readonly allowCommands?: readonly string[]; readonly maxResponseBytes?: number };
  /** Which built-in tools are served: all (true), none (false) or those named. */
  readonly builtins: boolean | readonly string[];
  /** The Redis client, when configured (shared by every feature that uses Redis). */
  readonly redis: Redis | undefined;
  /** How the instances of a cluster share Redis (key prefix, heartbeat, event retention), when configured. */
  readonly cluster:
    | {
        readonly keyPrefix: string;
        readonly heartbeatMs: number | undefined;
        readonly eventStreamLength: number | undefined;
        /** How long the shared stream keeps an event for replay, in ms; undefined: length only. */
        readonly eventMaxAgeMs: number | undefined;
        readonly eventBufferSize: number | undefined;
        readonly rateLimitFallback: RateLimitFallback;
      }
    | undefined;
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
    // jose loads only when JWTs are configured, keeping it out of every other server's start.
    const { createJwtVerifier } = await import("../security/jwt.js");
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
  const redisConfig = config.redis;
  if (redisConfig !== undefined) {
    const url = await readSecret(redisConfig.url, "/redis/url", context);
    const endpoint = parseRedisUrl(url, secretSource(redisConfig.url, context), "/redis/url");
    const ca = redisConfig.tls?.caFile === undefined ? undefined : await readConfigFile(redisConfig.tls.caFile, "/redis/tls/caFile", context);
    redis = await connectRedis(url, endpoint, {
      connectTimeout: redisConfig.connectTimeoutMs ?? 2_000,
      commandTimeout: redisConfig.commandTimeoutMs ?? 1_000,
      tls: redisConfig.tls === undefined && !endpoint.tls ? undefined : { ca, servername: redisConfig.tls?.servername },
      degraded: redisConfig.onUnavailable === "degraded",
      logger: context.logger,
    });
  }
  const rateLimitFallback = redisConfig?.rateLimitFallback ?? "local";

  return {
    host: config.server?.host ?? "127.0.0.1",
    port: config.server?.port ?? 8081,
    tls: tlsFiles,
    shutdownGraceMs: config.server?.shutdownGraceMs,
    defaultTimeoutMs: config.server?.defaultTimeoutMs,
    allowedHosts: config.server?.allowedHosts,
    corsOrigins: config.server?.corsOrigins,
    trustedProxies: config.server?.trustedProxies,
    limits: { ...config.limits },
    authenticate: createAuthenticator({ apiKeys: config.auth?.apiKeys, jwt: verifyJwt }),
    revealHiddenTools: config.auth?.revealHiddenTools ?? false,
    rateLimiter: createToolRateLimiter({ redis, keyPrefix: config.redis?.keyPrefix, fallback: rateLimitFallback }),
    requestLimits: { perCaller: config.rateLimits?.perCaller, anonymousPerIp: config.rateLimits?.anonymousPerIp },
    logging: { level: config.logging?.level ?? "info", pretty: config.logging?.pretty ?? "auto" },
    // Events and statistics name callers and tools: once callers have identities, strangers should not read them.
    monitoring: {
      level: config.monitoring?.level ?? ((config.auth?.apiKeys?.length ?? 0) > 0 || config.auth?.jwt !== undefined ? "authenticated" : "public"),
      includeArguments: config.monitoring?.includeArguments ?? false,
      eventBufferBytes: config.monitoring?.eventBufferBytes,
      eventArgumentsMaxBytes: config.monitoring?.eventArgumentsMaxBytes,
    },
    mcpSessions: config.mcp?.sessions ?? false,
    pluginDirs: (config.pluginDirs ?? []).map((dir) => resolve(context.baseDir, dir)),
    executeCommand: { ...config.tools?.executeCommand },
    builtins: config.tools?.builtins ?? true,
    redis,
    cluster:
      redisConfig === undefined
        ? undefined
        : {
            keyPrefix: redisConfig.keyPrefix ?? "toolwire:",
            heartbeatMs: redisConfig.heartbeatMs,
            eventStreamLength: redisConfig.eventStreamLength,
            eventMaxAgeMs: redisConfig.eventMaxAgeMs,
            eventBufferSize: redisConfig.eventBufferSize,
            rateLimitFallback,
          },
    async close() {
      if (redis !== undefined) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}

/** How {@link connectRedis} connects. */
interface ConnectRedisOptions {
  readonly connectTimeout: number;
  readonly commandTimeout: number;
  readonly tls: { readonly ca: string | undefined; readonly servername: string | undefined } | undefined;
  /** Start even when Redis cannot be reached, and keep reconnecting. */
  readonly degraded: boolean;
  readonly logger: Logger | undefined;
}

/** Where a secret came from, for errors about its value (which they never repeat). */
function secretSource(ref: SecretRef, context: ResolveContext): string {
  if (typeof ref === "string") return "(the config)";
  return "env" in ref ? `environment variable ${ref.env}` : resolve(context.baseDir, ref.file);
}

async function connectRedis(url: string, endpoint: RedisEndpoint, options: ConnectRedisOptions): Promise<Redis> {
  const { logger } = options;
  // ioredis loads only when Redis is configured, keeping it out of every other server's start.
  const { Redis } = await import("ioredis");
  // The parsed endpoint, never the string: ioredis would read it with the legacy url.parse.
  const redis = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    ...(endpoint.username === undefined ? {} : { username: endpoint.username }),
    ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
    ...(endpoint.db === undefined ? {} : { db: endpoint.db }),
    ...(endpoint.family === undefined ? {} : { family: endpoint.family }),
    lazyConnect: true,
    connectTimeout: options.connectTimeout,
    commandTimeout: options.commandTimeout,
    // Commands fail fast while disconnected instead of queueing: callers fall back at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Reconnect for as long as the server runs, at most a second apart, so recovery is quick.
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    ...(options.tls === undefined
      ? {}
      : { tls: { ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }), ...(options.tls.servername === undefined ? {} : { servername: options.tls.servername }) } }),
  });
  // connect() only rejects with "Connection is closed."; the error event says why. Repeats of
  // one error while Redis stays away are logged once.
  let lastError: Error | undefined;
  redis.on("error", (err: Error) => {
    if (lastError?.message !== err.message) logger?.warn({ err: err.message, redis: redactRedisUrl(url) }, "redis error");
    lastError = err;
  });
  redis.on("ready", () => {
    if (lastError !== undefined) logger?.info({ redis: redactRedisUrl(url) }, "redis connected");
    lastError = undefined;
  });
  try {
    await redis.connect();
  } catch (err) {
    const message = `cannot reach Redis at ${redactRedisUrl(url)}: ${(lastError ?? (err as Error)).message}`;
    if (options.degraded) {
      // ioredis keeps reconnecting by its retry strategy; the server starts degraded meanwhile.
      logger?.warn({ redis: redactRedisUrl(url) }, `${message}; starting degraded (redis.onUnavailable is "degraded") and reconnecting`);
      return redis;
    }
    redis.disconnect();
    throw new Error(`${message} (set redis.onUnavailable to "degraded" to start without it)`);
  }
  return redis;
}
