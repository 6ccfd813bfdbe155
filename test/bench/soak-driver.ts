import { setMaxListeners } from "node:events";
import { LatencyRecorder } from "./latency-recorder.js";
import { surfaceNames, type Surface, type SurfaceName } from "./soak-surfaces.js";

/** One surface's share of a window. */
export interface SurfaceWindow {
  /** Calls that ended in the window, failed ones included. */
  readonly calls: number;
  readonly errors: number;
  /** Latency percentiles in ms of the calls that ended well (NaN if none). */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** What the driver saw between two {@link SoakDriver.window} calls. */
export interface DriverWindow {
  readonly seconds: number;
  readonly calls: number;
  readonly errors: number;
  /** The first few error messages of the window. */
  readonly firstErrors: readonly string[];
  /** Percentiles over the quick (non-streaming) calls, in ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly bySurface: Readonly<Record<SurfaceName, SurfaceWindow>>;
  /**
   * Calls due by the schedule but not sent because {@link maxInFlight} calls were still waiting:
   * the server (or this driver) fell behind the rate.
   */
  readonly skipped: number;
  /** Calls in flight when the window was taken. */
  readonly inFlight: number;
}

/** What a closed-loop burst measured. */
export interface CapacityMeasurement {
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly errors: number;
  readonly firstErrors: readonly string[];
}

/** Drives the surfaces: a closed-loop burst to find capacity, then an open loop at a fixed rate. */
export interface SoakDriver {
  /** Runs `concurrency` closed loops over the quick surfaces for `seconds` and counts what they completed. */
  measure(seconds: number, concurrency: number): Promise<CapacityMeasurement>;
  /** Starts sending `rate` calls per second on schedule (open loop), whatever the answers' pace. */
  start(rate: number): void;
  /** Ends the open loop and waits for the calls in flight to end; those left after `timeoutMs` are cancelled (and fail). */
  drain(timeoutMs: number): Promise<void>;
  /** The figures since the previous window (or the start), and a fresh window. */
  window(): DriverWindow;
}

/** Most calls the open loop keeps in flight; beyond it due calls are skipped and counted. */
export const maxInFlight = 2_000;

/** First error messages kept per window. */
const keptErrors = 5;

/** How often the open loop looks at the clock; calls due meanwhile are sent together. */
const tickMs = 2;

/**
 * The order of calls for the given weights: smooth weighted round robin, so every stretch of the
 * sequence holds each surface in proportion and none comes in bursts.
 */
export function weightedOrder<T extends { readonly weight: number }>(items: readonly T[]): T[] {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  const current = items.map(() => 0);
  const order: T[] = [];
  for (let i = 0; i < total; i++) {
    let best = 0;
    items.forEach((item, j) => {
      current[j] = (current[j] as number) + item.weight;
      if ((current[j] as number) > (current[best] as number)) best = j;
    });
    current[best] = (current[best] as number) - total;
    order.push(items[best] as T);
  }
  return order;
}

/** The figures of the current window, and how one call's outcome adds to them. */
function createWindowState() {
  const started = performance.now();
  const quick = new LatencyRecorder();
  const surfaces = new Map(surfaceNames.map((name) => [name, { calls: 0, errors: 0, latencies: new LatencyRecorder() }]));
  const firstErrors: string[] = [];
  let errors = 0;
  let skipped = 0;
  return {
    succeeded(surface: Surface, latencyMs: number) {
      const tally = surfaces.get(surface.name);
      if (tally !== undefined) {
        tally.calls++;
        tally.latencies.record(latencyMs);
      }
      if (surface.quick) quick.record(latencyMs);
    },
    failed(surface: Surface, err: unknown) {
      const tally = surfaces.get(surface.name);
      if (tally !== undefined) {
        tally.calls++;
        tally.errors++;
      }
      errors++;
      const message = err instanceof Error ? err.message : String(err);
      if (firstErrors.length < keptErrors) firstErrors.push(message.startsWith(surface.name) ? message : `${surface.name}: ${message}`);
    },
    skip: () => void skipped++,
    /** The window's figures; `inFlight` is the caller's count at its end. */
    summary(inFlight: number): DriverWindow {
      const [p50Ms = Number.NaN, p99Ms = Number.NaN] = quick.percentiles(50, 99);
      const bySurface = Object.fromEntries(
        [...surfaces].map(([name, s]) => {
          const [p50 = Number.NaN, p99 = Number.NaN] = s.latencies.percentiles(50, 99);
          return [name, { calls: s.calls, errors: s.errors, p50Ms: p50, p99Ms: p99 }];
        }),
      ) as Record<SurfaceName, SurfaceWindow>;
      const calls = Object.values(bySurface).reduce((sum, s) => sum + s.calls, 0);
      return { seconds: (performance.now() - started) / 1000, calls, errors, firstErrors, p50Ms, p99Ms, bySurface, skipped, inFlight };
    },
  };
}

/** Creates a driver over `surfaces`. */
export function createSoakDriver(surfaces: readonly Surface[]): SoakDriver {
  const controller = new AbortController();
  // Every call in flight listens on this one signal.
  setMaxListeners(0, controller.signal);
  let state = createWindowState();
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;

  /** Makes one call; latency counts from `scheduledAt`, when the schedule wanted it sent. */
  const issue = (surface: Surface, scheduledAt: number): Promise<void> => {
    const call = surface.call(controller.signal).then(
      () => state.succeeded(surface, performance.now() - scheduledAt),
      (err: unknown) => state.failed(surface, err),
    );
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
    return call;
  };

  return {
    async measure(seconds, concurrency) {
      const order = weightedOrder(surfaces.filter((surface) => surface.quick));
      const before = state;
      state = createWindowState();
      const until = performance.now() + seconds * 1000;
      let next = 0;
      const loop = async () => {
        while (performance.now() < until) {
          const surface = order[next++ % order.length] as Surface;
          await issue(surface, performance.now());
        }
      };
      await Promise.all(Array.from({ length: concurrency }, loop));
      const { calls, seconds: elapsed, errors, firstErrors } = state.summary(0);
      state = before;
      return { calls, seconds: elapsed, callsPerSecond: calls / elapsed, errors, firstErrors };
    },
    start(rate) {
      const order = weightedOrder(surfaces);
      const started = performance.now();
      let sent = 0;
      const tick = () => {
        const due = Math.floor(((performance.now() - started) / 1000) * rate);
        for (; sent < due; sent++) {
          const scheduledAt = started + (sent / rate) * 1000;
          if (inFlight.size >= maxInFlight) state.skip();
          else void issue(order[sent % order.length] as Surface, scheduledAt);
        }
        timer = setTimeout(tick, tickMs);
      };
      state = createWindowState();
      tick();
    },
    async drain(timeoutMs) {
      clearTimeout(timer);
      timer = undefined;
      const all = Promise.allSettled([...inFlight]).then(() => true);
      const settled = await Promise.race([all, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref())]);
      if (!settled) {
        // A call still running this long is a finding: cancelling it counts it as an error.
        controller.abort(new Error(`still running ${timeoutMs} ms after the load stopped`));
        await all;
      }
    },
    window() {
      const ended = state;
      state = createWindowState();
      return ended.summary(inFlight.size);
    },
  };
}
