import type { LoadSpec, LoadSummary } from "./load-spec.js";

/** Cumulative CPU time of a process, in microseconds (process.cpuUsage()). */
export interface CpuSnapshot {
  readonly userMicros: number;
  readonly systemMicros: number;
}

/** Messages the orchestrator sends to a server child. */
export type ToServerChild = { readonly type: "cpu"; readonly id: number } | { readonly type: "stop" };

/** Messages a server child sends to the orchestrator. */
export type FromServerChild =
  | { readonly type: "ready"; readonly port: number }
  | ({ readonly type: "cpu"; readonly id: number } & CpuSnapshot);

/** Messages the orchestrator sends to a load child. */
export type ToLoadChild = { readonly type: "run"; readonly spec: LoadSpec } | { readonly type: "stop" };

/** Messages a load child sends to the orchestrator. */
export type FromLoadChild =
  | { readonly type: "done"; readonly summary: LoadSummary }
  | { readonly type: "failed"; readonly message: string };
