import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { limitExceeded } from "../runtime/errors.js";

/** A manifest's call budget. */
export interface RateLimitRule {
  /** Calls allowed per window. */
  readonly maxCalls: number;
  /** Window length in seconds. */
  readonly windowSeconds: number;
}

/** Consumes call budgets per tool and caller. */
export interface ToolRateLimiter {
  /**
   * Takes one call from the budget of `caller` on `tool`; rejects with resource_exhausted
   * (carrying the retry delay) when the budget is spent.
   */
  consume(tool: string, rule: RateLimitRule, caller: string): Promise<void>;
}

/**
 * Creates the in-memory rate limiter (rate-limiter-flexible), one limiter per tool and rule so
 * that a changed manifest gets a fresh budget.
 */
export function createToolRateLimiter(): ToolRateLimiter {
  const limiters = new Map<string, RateLimiterMemory>();
  return {
    async consume(tool, rule, caller) {
      const key = `${tool}\u0000${rule.maxCalls}\u0000${rule.windowSeconds}`;
      let limiter = limiters.get(key);
      if (limiter === undefined) {
        limiter = new RateLimiterMemory({
          keyPrefix: tool,
          points: rule.maxCalls,
          duration: rule.windowSeconds,
        });
        limiters.set(key, limiter);
      }
      try {
        await limiter.consume(caller, 1);
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          throw limitExceeded(
            `rate limit of tool "${tool}" reached: ${rule.maxCalls} calls per ${rule.windowSeconds}s for caller "${caller}"`,
            err.msBeforeNext,
            "RATE_LIMITED",
          );
        }
        throw err;
      }
    },
  };
}
