import { forkTsx, nextMessage, stopChild } from "./child-processes.js";
import type { CapacityMeasurement, DriverWindow } from "./soak-driver.js";

/** Messages the orchestrator sends to the soak driver child; each is answered with the same id. */
export type ToDriverChild =
  | { readonly type: "measure"; readonly id: number; readonly seconds: number; readonly concurrency: number }
  | { readonly type: "start"; readonly id: number; readonly rate: number }
  | { readonly type: "drain"; readonly id: number; readonly timeoutMs: number }
  | { readonly type: "window"; readonly id: number }
  | { readonly type: "stop" };

/** Messages the soak driver child sends to the orchestrator. */
export type FromDriverChild =
  | { readonly type: "ready" | "started" | "drained"; readonly id: number }
  | { readonly type: "measured"; readonly id: number; readonly capacity: CapacityMeasurement }
  | { readonly type: "window"; readonly id: number; readonly window: DriverWindow }
  | { readonly type: "failed"; readonly id: number; readonly message: string };

/** The soak driver child, seen from the orchestrator; see {@link SoakDriver} for what each call does. */
export interface DriverProcess {
  readonly pid: number;
  measure(seconds: number, concurrency: number): Promise<CapacityMeasurement>;
  start(rate: number): Promise<void>;
  drain(timeoutMs: number): Promise<void>;
  window(): Promise<DriverWindow>;
  /** Stops the child (by pid if it does not stop by itself). */
  stop(): Promise<void>;
}

type Reply<T extends FromDriverChild["type"]> = Extract<FromDriverChild, { type: T }>;

/** Forks the driver child for the server at `baseUrl`; resolves once it has called every surface once. */
export async function startDriverProcess(baseUrl: string, apiKey: string): Promise<DriverProcess> {
  const child = forkTsx(new URL("./soak-driver-child.ts", import.meta.url), [baseUrl, apiKey]);
  let nextId = 0;
  const ask = async <T extends FromDriverChild["type"]>(request: (id: number) => ToDriverChild, answer: T, timeoutMs: number): Promise<Reply<T>> => {
    const id = nextId++;
    const reply = nextMessage(
      child,
      (m): m is Reply<T> | Reply<"failed"> => {
        const message = m as FromDriverChild | undefined;
        return message?.id === id && (message.type === answer || message.type === "failed");
      },
      timeoutMs,
      `the soak driver's ${answer} answer`,
    );
    child.send(request(id));
    const message: FromDriverChild = await reply;
    if (message.type === "failed") throw new Error(`soak driver: ${message.message}`);
    return message as Reply<T>;
  };
  try {
    await nextMessage(child, (m): m is Reply<"ready"> => (m as FromDriverChild | undefined)?.type === "ready", 60_000, "the soak driver to call every surface once");
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return {
    pid: child.pid ?? -1,
    measure: async (seconds, concurrency) => (await ask((id) => ({ type: "measure", id, seconds, concurrency }), "measured", (seconds + 60) * 1000)).capacity,
    start: async (rate) => void (await ask((id) => ({ type: "start", id, rate }), "started", 10_000)),
    drain: async (timeoutMs) => void (await ask((id) => ({ type: "drain", id, timeoutMs }), "drained", timeoutMs + 30_000)),
    window: async () => (await ask((id) => ({ type: "window", id }), "window", 10_000)).window,
    stop: () => stopChild(child),
  };
}
