import type { JsonObject } from "@bufbuild/protobuf";
import type { ToolwireEvent } from "./event.js";

/**
 * What an event costs beside its text and arguments: the object, its fields and the headers of
 * its strings, rounded up. The estimate only has to grow with what really takes memory.
 */
const eventOverheadBytes = 256;

// The JSON length of an arguments object, measured once: the observer measures it to cap it,
// and the store finds the same object here when it counts the event.
const argumentSizes = new WeakMap<JsonObject, number>();

/** The length of `args` as JSON text (measured once per object). */
export function argumentsBytes(args: JsonObject): number {
  let size = argumentSizes.get(args);
  if (size === undefined) {
    size = JSON.stringify(args).length;
    argumentSizes.set(args, size);
  }
  return size;
}

/**
 * `args` when its JSON is at most `maxBytes` long, else a marker in its place,
 * `{"$truncated": {"bytes": <length>, "maxBytes": <maxBytes>}}`: one huge call must not fill
 * the replay buffer (evicting every other event) nor a shared store. The marker keeps no part
 * of the arguments, so a cut can never leave half a secret behind.
 */
export function capEventArguments(args: JsonObject, maxBytes: number): JsonObject {
  const bytes = argumentsBytes(args);
  if (bytes <= maxBytes) return args;
  const marker: JsonObject = { $truncated: { bytes, maxBytes } };
  argumentSizes.set(marker, JSON.stringify(marker).length);
  return marker;
}

/**
 * About how many bytes an event holds in memory: a fixed overhead, its strings, and the JSON
 * length of its arguments. Cheap: no serialization beyond the arguments' one (remembered).
 */
export function eventBytes(event: ToolwireEvent): number {
  const text =
    event.toolName.length + event.toolVersion.length + event.callerId.length + event.requestId.length + event.code.length + event.message.length;
  return eventOverheadBytes + text + (event.arguments === undefined ? 0 : argumentsBytes(event.arguments));
}
