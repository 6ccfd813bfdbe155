import { forkTsx, nextMessage, stopChild } from "./child-processes.js";
import type { FromLoadChild, ToLoadChild } from "./ipc-messages.js";
import type { LoadSpec, LoadSummary } from "./load-spec.js";

/** A load-generator child process, seen from the orchestrator. */
export interface LoadProcess {
  readonly pid: number;
  /** Runs one load in the child and resolves with its summary. */
  run(spec: LoadSpec): Promise<LoadSummary>;
  /** Stops the child (by pid if it does not stop by itself). */
  stop(): Promise<void>;
}

const isOutcome = (m: unknown): m is FromLoadChild => {
  const type = (m as FromLoadChild | undefined)?.type;
  return type === "done" || type === "failed";
};

/** Forks a load child (autocannon); it stays idle until asked to run a load. */
export function startLoadProcess(): LoadProcess {
  const child = forkTsx(new URL("./load-child.ts", import.meta.url));
  return {
    pid: child.pid ?? -1,
    async run(spec) {
      const outcome = nextMessage(child, isOutcome, (spec.durationSeconds + 60) * 1000, "a load run");
      child.send({ type: "run", spec } satisfies ToLoadChild);
      const message = await outcome;
      if (message.type === "failed") throw new Error(`load run failed: ${message.message}`);
      return message.summary;
    },
    stop: () => stopChild(child),
  };
}
