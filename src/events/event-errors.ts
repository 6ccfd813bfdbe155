import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";

function errorInfo(reason: string, metadata: Record<string, string>) {
  return { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, metadata }) };
}

/**
 * The events after `afterSequence` are no longer (or were never) in the replay buffer: the
 * subscriber must know it missed them rather than see a silent gap.
 */
export function eventsOutOfRange(afterSequence: number, oldest: number, newest: number): ConnectError {
  const held = oldest > newest ? "holds no events yet" : `holds events ${oldest} to ${newest}`;
  const message =
    afterSequence > newest
      ? `cannot resume after sequence ${afterSequence}: the newest event of this server is ${newest} ` +
        "(the server restarted or is another instance); its earlier events are lost. " +
        "Watch again without after_sequence for live events, or with after_sequence 0 for everything held"
      : `cannot resume after sequence ${afterSequence}: events ${afterSequence + 1} to ${oldest - 1} are no longer ` +
        `in the replay buffer (it ${held}). Resume after ${oldest - 1} to continue past the gap, ` +
        "or with after_sequence 0 for everything held";
  return new ConnectError(message, Code.OutOfRange, undefined, [
    errorInfo("EVENTS_OUT_OF_RANGE", {
      afterSequence: String(afterSequence),
      oldestSequence: String(oldest),
      newestSequence: String(newest),
    }),
  ]);
}

/** A subscriber did not keep up with its bounded queue and was cut off. */
export function subscriberTooSlow(queueSize: number, lastSequence: number | undefined): ConnectError {
  const resume =
    lastSequence === undefined
      ? "watch again with the last sequence you received as after_sequence"
      : `resume with after_sequence ${lastSequence} (the last event handed to this stream) or the last one you received`;
  return new ConnectError(
    `event subscriber fell behind: ${queueSize} events were waiting for it, so it was cut off to bound the server's memory; ${resume}`,
    Code.ResourceExhausted,
    undefined,
    [errorInfo("SUBSCRIBER_TOO_SLOW", { queueSize: String(queueSize), ...(lastSequence === undefined ? {} : { lastSequence: String(lastSequence) }) })],
  );
}

/** The server is shutting down: event streams end so that shutdown is not held up. */
export function eventsShuttingDown(lastSequence: number | undefined): ConnectError {
  return new ConnectError(
    "server is shutting down; watch again on another instance" +
      (lastSequence === undefined ? "" : ` (resume after sequence ${lastSequence} where the events are shared)`),
    Code.Unavailable,
    undefined,
    [errorInfo("SERVER_SHUTTING_DOWN", lastSequence === undefined ? {} : { lastSequence: String(lastSequence) })],
  );
}
