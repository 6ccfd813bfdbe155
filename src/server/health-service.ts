import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { createStreamLifetime } from "./stream-lifetime.js";

/** Serving status of the server and each of its services, watched by grpc.health.v1.Health. */
export interface HealthStatus {
  /** The status of a service ("" for the whole server), undefined when it is not known. */
  get(service: string): ServingStatus | undefined;
  /** Every known service and its status ("" included). */
  all(): ReadonlyMap<string, ServingStatus>;
  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Sets every service to NOT_SERVING and ends every Watch stream after telling it. */
  shutdown(): void;
  /** Whether {@link shutdown} was called. */
  readonly shutDown: boolean;
}

/** Creates the health status of a server serving `services`, all SERVING. */
export function createHealthStatus(services: readonly string[]): HealthStatus {
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  for (const service of services) statuses.set(service, ServingStatus.SERVING);
  const listeners = new Set<() => void>();
  let shutDown = false;
  return {
    get: (service) => statuses.get(service),
    all: () => statuses,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    shutdown() {
      if (shutDown) return;
      shutDown = true;
      for (const service of statuses.keys()) statuses.set(service, ServingStatus.NOT_SERVING);
      for (const listener of [...listeners]) listener();
    },
    get shutDown() {
      return shutDown;
    },
  };
}

/**
 * Implements grpc.health.v1.Health: Check and List answer at once; Watch sends the current
 * status, then each change, and ends once shutdown has been announced (or the client leaves).
 * A Watch that reaches `maxStreamDurationMs` ends with `unavailable`, and the client watches again.
 */
export function createHealthService(health: HealthStatus, maxStreamDurationMs: number): ServiceImpl<typeof Health> {
  return {
    check(req) {
      const status = health.get(req.service);
      if (status === undefined) {
        throw new ConnectError(`unknown service "${req.service.slice(0, 200)}"; known: ${[...health.all().keys()].filter(Boolean).join(", ")}`, Code.NotFound);
      }
      return { status };
    },
    list() {
      return { statuses: Object.fromEntries([...health.all()].map(([service, status]) => [service, { status }])) };
    },
    async *watch(req, ctx) {
      let changed: (() => void) | undefined;
      const wake = () => changed?.();
      const unsubscribe = health.onChange(wake);
      const lifetime = createStreamLifetime(ctx.signal, maxStreamDurationMs, "watch again");
      lifetime.signal.addEventListener("abort", wake);
      try {
        let last: ServingStatus | undefined;
        for (;;) {
          const status = health.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
          if (status !== last) {
            last = status;
            yield { status };
            // Look again: the status may have changed while the message was being written.
            continue;
          }
          if (health.shutDown) return;
          if (lifetime.signal.aborted) {
            if (lifetime.expired) throw lifetime.expiredError();
            return;
          }
          await new Promise<void>((resolve) => (changed = resolve));
          changed = undefined;
        }
      } finally {
        unsubscribe();
        lifetime.signal.removeEventListener("abort", wake);
        lifetime.dispose();
      }
    },
  };
}
