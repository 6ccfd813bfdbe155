import type { JsonObject } from "@bufbuild/protobuf";
import type { EventDraft } from "../../src/events/index.js";

/** A tool_called event of an anonymous echo call, as the pipeline drafts one. */
export function echoCalledDraft(requestId: string, args?: JsonObject): EventDraft {
  return {
    type: "tool_called",
    toolName: "echo",
    toolVersion: "1.0.0",
    callerId: "anonymous",
    requestId,
    code: "",
    message: "",
    durationMs: undefined,
    status: undefined,
    arguments: args,
  };
}
