import type { CallerInfo } from "../runtime/caller.js";

/** A JSON-RPC request id. */
export type JsonRpcId = string | number;

/**
 * Running `tools/call` exchanges of 2025-era clients served without a session, so that their
 * `notifications/cancelled` (which that generation sends on a request of its own, keeping the
 * call's request open) reaches the call. Without a session, a client is known only by its
 * credentials and address: a notification cancels the call with its JSON-RPC id from the same
 * credentials and address, and only when exactly one such call runs, since two clients behind one
 * address and key number their requests alike. A notification that reaches another instance, or
 * names no single call, is ignored, as the specification allows.
 */
export interface StatelessCancellation {
  /** Remembers the running call `id` of `caller`, aborted through `controller`; returns the function that forgets it. */
  track(caller: CallerInfo, id: JsonRpcId, controller: AbortController): () => void;
  /** Aborts the call `id` of `caller` when exactly one such call runs; answers whether it did. */
  cancel(caller: CallerInfo, id: JsonRpcId): boolean;
}

/** Creates the registry of stateless 2025-era calls that a `notifications/cancelled` may name. */
export function createStatelessCancellation(): StatelessCancellation {
  const running = new Map<string, Set<AbortController>>();
  return {
    track(caller, id, controller) {
      const key = keyOf(caller, id);
      let calls = running.get(key);
      if (calls === undefined) running.set(key, (calls = new Set()));
      calls.add(controller);
      return () => {
        calls.delete(controller);
        if (calls.size === 0 && running.get(key) === calls) running.delete(key);
      };
    },

    cancel(caller, id) {
      const calls = running.get(keyOf(caller, id));
      if (calls === undefined || calls.size !== 1) return false;
      for (const controller of calls) controller.abort();
      return true;
    },
  };
}

function keyOf(caller: CallerInfo, id: JsonRpcId): string {
  const { headers } = caller;
  // The id's type is part of it: JSON-RPC tells request 1 from request "1".
  return [caller.peer ?? "", headers.get("authorization") ?? "", headers.get("x-api-key") ?? "", typeof id, String(id)].join("\n");
}

/** The JSON-RPC id of a body that is one request, else undefined. */
export function requestIdOf(body: unknown): JsonRpcId | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const id = (body as { id?: unknown }).id;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}

/** The request id a `notifications/cancelled` body names, else undefined. */
export function cancelledRequestIdOf(body: unknown): JsonRpcId | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const params = (body as { params?: unknown }).params;
  return typeof params === "object" && params !== null ? requestIdOf({ id: (params as { requestId?: unknown }).requestId }) : undefined;
}
