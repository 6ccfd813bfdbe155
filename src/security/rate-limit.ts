import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { Code, ConnectError } from "@connectrpc/connect";
import { limitExceeded } from "../runtime/errors.js";

/** A call budget: so many calls per window. */
export interface RateLimitRule {
  /** Calls allowed per window. */
  readonly maxCalls: number;
  /** Window length in seconds. */
  readonly windowSeconds: number;
}

/** Where budgets are kept. */
export interface RateLimiterStoreOptions {
  /**
   * Keep budgets in Redis so every instance shares them (RateLimiterRedis). While Redis is away
   * each instance falls back to an in-memory budget of the same size.
   */
  readonly redis?: Redis | undefined;
  /** Prefix of every Redis key (default "toolwire:"). */
  readonly keyPrefix?: string | undefined;
  /**
   * What budgets do while Redis is away: "local" keeps an in-memory budget of the same size per
   * instance (default), "fail-open" lets calls through, "fail-closed" refuses them with unavailable.
   */
  readonly fallback?: RateLimitFallback | undefined;
}

/** What rate limits do while their Redis store is away. */
export type RateLimitFallback = "local" | "fail-open" | "fail-closed";

/** Consumes call budgets: per tool and caller (manifests), and per caller or address (config). */
export interface ToolRateLimiter {
  /**
   * Takes one call from the budget of `caller` on `tool`; rejects with resource_exhausted
   * (carrying the retry delay) when the budget is spent.
   */
  consume(tool: string, rule: RateLimitRule, caller: string): Promise<void>;
  /**
   * Takes one request from the server-wide budget of a caller ("caller") or of an anonymous
   * client address ("address"), across every tool.
   */
  consumeRequest(scope: "caller" | "address", rule: RateLimitRule, key: string): Promise<void>;
}

/**
 * Creates the rate limiter (rate-limiter-flexible): in memory by default, in Redis when given a
 * client. One limiter per bucket and rule, so a changed manifest or config gets a fresh budget.
 */
export function createToolRateLimiter(options: RateLimiterStoreOptions = {}): ToolRateLimiter {
  const limiters = new Map<string, RateLimiterAbstract>();
  const prefix = `${options.keyPrefix ?? "toolwire:"}rl:`;
  const fallback = options.fallback ?? "local";

  function limiterFor(bucket: string, rule: RateLimitRule): RateLimiterAbstract {
    const key = `${bucket}:${rule.maxCalls}:${rule.windowSeconds}`;
    let limiter = limiters.get(key);
    if (limiter === undefined) {
      const base = { keyPrefix: `${prefix}${key}`, points: rule.maxCalls, duration: rule.windowSeconds };
      limiter =
        options.redis === undefined
          ? new RateLimiterMemory(base)
          : new RateLimiterRedis({
              ...base,
              storeClient: options.redis,
              // Fail fast while disconnected, so the fallback answers at once.
              rejectIfRedisNotReady: true,
              insuranceLimiter: fallback === "local" ? new RateLimiterMemory(base) : undefined,
            });
      limiters.set(key, limiter);
    }
    return limiter;
  }

  async function take(limiter: RateLimiterAbstract, key: string, describe: () => string, reason: string): Promise<void> {
    try {
      await limiter.consume(key, 1);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw limitExceeded(describe(), err.msBeforeNext, reason);
      // Only the store can fail here (Redis away, with no in-memory insurance).
      if (fallback === "fail-open") return;
      throw new ConnectError(
        `rate limits cannot be checked: the shared rate limit store (Redis) is unreachable (${(err as Error).message}), and this server refuses rate-limited calls until it is back; retry shortly`,
        Code.Unavailable,
      );
    }
  }

  return {
    consume(tool, rule, caller) {
      return take(
        limiterFor(`tool:${tool}`, rule),
        caller,
        () => `rate limit of tool "${tool}" reached: ${rule.maxCalls} calls per ${rule.windowSeconds}s for caller "${caller}"`,
        "RATE_LIMITED",
      );
    },
    consumeRequest(scope, rule, key) {
      return take(
        limiterFor(scope, rule),
        key,
        () =>
          `request rate limit reached: ${rule.maxCalls} requests per ${rule.windowSeconds}s for ` +
          (scope === "caller" ? `caller "${key}"` : `anonymous callers from ${key.replace(/^ip:/, "")}`),
        "RATE_LIMITED",
      );
    },
  };
}
