import type { BenchTarget } from "./bench-targets.js";
import { benchHost } from "./bench-server.js";
import { forkTsx, nextMessage, stopChild } from "./child-processes.js";
import type { CpuSnapshot, FromServerChild, ToServerChild } from "./ipc-messages.js";

/** A server child process, seen from the orchestrator. */
export interface ServerProcess {
  readonly pid: number;
  /** Full URL the load is posted to. */
  readonly url: string;
  /** The child's cumulative CPU time right now. */
  cpu(): Promise<CpuSnapshot>;
  /** Stops the child (by pid if it does not stop by itself). */
  stop(): Promise<void>;
}

const isReady = (m: unknown): m is Extract<FromServerChild, { type: "ready" }> =>
  (m as FromServerChild | undefined)?.type === "ready";

/** Forks a server child for `target` and waits until it listens. */
export async function startServerProcess(target: BenchTarget): Promise<ServerProcess> {
  const child = forkTsx(new URL("./server-child.ts", import.meta.url), [target.kind]);
  try {
    const { port } = await nextMessage(child, isReady, 30_000, `${target.label} to listen`);
    let nextId = 0;
    return {
      pid: child.pid ?? -1,
      url: `http://${benchHost}:${port}${target.path}`,
      async cpu() {
        const id = nextId++;
        const reply = nextMessage(
          child,
          (m): m is Extract<FromServerChild, { type: "cpu" }> =>
            (m as FromServerChild | undefined)?.type === "cpu" && (m as { id: number }).id === id,
          10_000,
          `CPU usage of ${target.label}`,
        );
        child.send({ type: "cpu", id } satisfies ToServerChild);
        const { userMicros, systemMicros } = await reply;
        return { userMicros, systemMicros };
      },
      stop: () => stopChild(child),
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
