// Minimal typings for the parts of autocannon 8 the benchmark uses (the package ships none).
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  /** Options of one autocannon run. */
  export interface AutocannonOptions {
    readonly url: string;
    readonly connections?: number;
    /** Run length in seconds. */
    readonly duration?: number;
    readonly pipelining?: number;
    /** Per-request timeout in seconds. */
    readonly timeout?: number;
    readonly method?: string;
    readonly headers?: Record<string, string>;
    readonly body?: string | Buffer;
  }

  /** Percentile summary of one histogram (latency in ms, requests per second sample). */
  export interface AutocannonHistogram {
    readonly average: number;
    readonly mean: number;
    readonly min: number;
    readonly max: number;
    readonly total: number;
    readonly p50: number;
    readonly p99: number;
  }

  /** The aggregated result of one run. */
  export interface AutocannonResult {
    /** Elapsed seconds. */
    readonly duration: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly mismatches: number;
    readonly non2xx: number;
    readonly resets: number;
    readonly "2xx": number;
    readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
    readonly latency: AutocannonHistogram;
    /** `total` is the number of completed requests, `sent` the number sent. */
    readonly requests: AutocannonHistogram & { readonly sent: number };
  }

  /** A running load: emits `response` (client, statusCode, bytes, latencyMs) per response. */
  export type AutocannonInstance = EventEmitter;

  /** Starts a run and calls back with its result once it is over. */
  export default function autocannon(
    options: AutocannonOptions,
    callback: (error: Error | null, result: AutocannonResult) => void,
  ): AutocannonInstance;
}
