import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { codeName } from "../runtime/code-name.js";
import { writeJsonError, type PlainResponse } from "./health.js";

/**
 * Answers a plain HTTP request (/events, /metrics) with a ConnectError as Connect would: its
 * HTTP status and a `{code, message}` JSON body; unauthenticated also gets WWW-Authenticate.
 */
export function writeConnectError(res: PlainResponse, error: unknown): void {
  const err = ConnectError.from(error);
  const headers: Record<string, string> = {};
  if (err.code === Code.Unauthenticated) headers["www-authenticate"] = "Bearer";
  if (err.code === Code.Unavailable) headers["retry-after"] = "1";
  // Rate limits carry their own delay (see limitExceeded).
  const retryAfter = err.metadata.get("retry-after");
  if (retryAfter !== null) headers["retry-after"] = retryAfter;
  writeJsonError(res, codeToHttpStatus(err.code), codeName(err.code), err.rawMessage, headers);
}
