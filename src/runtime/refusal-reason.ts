import { Code, type ConnectError } from "@connectrpc/connect";
import { ArgumentViolationsSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import type { ObservedCall } from "./call-pipeline.js";

/**
 * Why a call ended in `error`, as events and log lines tell it. Violations of a tool's input
 * schema name its argument properties (`/password: must be string`), which only those who may
 * list the tool may learn. So the rule has two halves:
 *
 * - Events: a tool's events, this text included, reach only watchers who may list the tool
 *   (`mayReadEvent` in the server), and those may read its input schema through GetTool anyway.
 * - The text itself: violations are spelled out only when the caller passed authorization for
 *   the tool (`call.tool` is set). A call refused before that — anonymous or under-privileged —
 *   gets a reason without property names, whatever a transport or a future stage order
 *   validated first, so neither an event nor the call log can name them for it. The call log
 *   is read by the operator, who may see every tool, so it keeps the names otherwise.
 */
export function refusalReason(call: ObservedCall, error: ConnectError): string {
  if (call.tool === undefined && isArgumentViolation(error)) {
    return `invalid arguments for tool "${call.toolName.slice(0, 128)}" (the violations are not shown: the caller was not allowed the tool)`;
  }
  return error.rawMessage;
}

function isArgumentViolation(error: ConnectError): boolean {
  return error.code === Code.InvalidArgument && error.findDetails(ArgumentViolationsSchema).length > 0;
}
