import { create, toBinary, toJsonString, type JsonObject } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  EventSchema,
  EventType,
  ServerStatus,
  WatchEventsResponseSchema,
  type Event,
  type WatchEventsResponse,
} from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { EventTypeName, ServerStatusName, ToolwireEvent } from "../events/event.js";

const typeToProto: Record<EventTypeName, EventType> = {
  tool_called: EventType.TOOL_CALLED,
  tool_succeeded: EventType.TOOL_SUCCEEDED,
  tool_failed: EventType.TOOL_FAILED,
  tool_denied: EventType.TOOL_DENIED,
  rate_limited: EventType.RATE_LIMITED,
  tool_registered: EventType.TOOL_REGISTERED,
  tool_unregistered: EventType.TOOL_UNREGISTERED,
  server_status: EventType.SERVER_STATUS,
};

const typeFromProto = new Map<EventType, EventTypeName>(
  Object.entries(typeToProto).map(([name, type]) => [type, name as EventTypeName]),
);

const statusToProto: Record<ServerStatusName, ServerStatus> = {
  serving: ServerStatus.SERVING,
  draining: ServerStatus.DRAINING,
  degraded: ServerStatus.DEGRADED,
};

/** The protobuf EventType of an event type name. */
export function eventTypeToProto(type: EventTypeName): EventType {
  return typeToProto[type];
}

/** The event type name of a protobuf EventType; undefined for UNSPECIFIED and unknown numbers. */
export function eventTypeFromProto(type: EventType): EventTypeName | undefined {
  return typeFromProto.get(type);
}

/** The protobuf ServerStatus of a status name. */
export function serverStatusToProto(status: ServerStatusName): ServerStatus {
  return statusToProto[status];
}

// Every subscriber of an event gets the same message and JSON: converted once, not per stream.
const messages = new WeakMap<ToolwireEvent, Event>();
const jsonTexts = new WeakMap<ToolwireEvent, string>();
const binaryResponses = new WeakMap<ToolwireEvent, WatchEventsResponse>();

/** Field number of `event` in WatchEventsResponse. */
const eventFieldNumber = 1;

/** The protobuf Event of a stored event (made once per event, shared by every subscriber). */
export function eventToProto(event: ToolwireEvent): Event {
  let message = messages.get(event);
  if (message === undefined) {
    message = create(EventSchema, {
      sequence: BigInt(event.sequence),
      time: timestampFromMs(event.time),
      type: typeToProto[event.type],
      serverId: event.serverId,
      toolName: event.toolName,
      toolVersion: event.toolVersion,
      callerId: event.callerId,
      requestId: event.requestId,
      code: event.code,
      message: event.message,
      duration: event.durationMs === undefined ? undefined : durationFromMillis(event.durationMs),
      status: event.status === undefined ? ServerStatus.UNSPECIFIED : statusToProto[event.status],
      arguments: event.arguments as JsonObject | undefined,
    });
    messages.set(event, message);
  }
  return message;
}

/** The event as the JSON of its protobuf message (as Connect JSON clients see it), made once per event. */
export function eventToJson(event: ToolwireEvent): string {
  let json = jsonTexts.get(event);
  if (json === undefined) {
    json = toJsonString(EventSchema, eventToProto(event));
    jsonTexts.set(event, json);
  }
  return json;
}

/**
 * The WatchEventsResponse carrying `event`, for subscribers reading the binary protobuf format,
 * made once per event and shared by all of them.
 *
 * Serializing the Event is most of the cost of delivering it, and every binary subscriber would
 * serialize the same bytes again. So the Event is serialized once and carried as an unknown
 * field with the number of `event`: protobuf writes unknown fields verbatim, so on the wire this
 * is exactly the message with `event` set, at the cost of a copy per subscriber. The JSON format
 * does not write unknown fields: JSON subscribers get {@link eventToProto} in a normal message.
 */
export function eventToBinaryResponse(event: ToolwireEvent): WatchEventsResponse {
  let response = binaryResponses.get(event);
  if (response === undefined) {
    const field = new BinaryWriter().bytes(toBinary(EventSchema, eventToProto(event))).finish();
    response = create(WatchEventsResponseSchema);
    response.$unknown = [{ no: eventFieldNumber, wireType: WireType.LengthDelimited, data: field }];
    binaryResponses.set(event, response);
  }
  return response;
}

function durationFromMillis(ms: number): { seconds: bigint; nanos: number } {
  const whole = Math.floor(ms / 1000);
  return { seconds: BigInt(whole), nanos: Math.min(999_999_999, Math.round((ms - whole * 1000) * 1e6)) };
}
