import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { ObservedCall } from "../../src/runtime/call-pipeline.js";
import { invalidArguments } from "../../src/runtime/errors.js";
import { refusalReason } from "../../src/runtime/refusal-reason.js";
import { createToolRegistry, defineTool } from "../../src/registry/index.js";

const registry = createToolRegistry();
const vault = registry.register(
  defineTool(
    { name: "vault", version: "1.0.0", description: "keeps secrets", securityLevel: "restricted", input: { type: "object", properties: { password: { type: "string" } } } },
    () => ({ ok: true }),
  ),
);

function observed(allowed: boolean): ObservedCall {
  return {
    requestId: "r1",
    toolName: "vault",
    toolVersion: allowed ? "1.0.0" : undefined,
    tool: allowed ? vault : undefined,
    principal: undefined,
    caller: { headers: new Headers(), protocol: "connect" },
    arguments: { password: 42 },
  };
}

const violation = invalidArguments("vault", [{ pointer: "/password", keyword: "type", message: "must be string" }]);

describe("refusalReason", () => {
  it("spells out argument violations for a caller that was allowed the tool", () => {
    expect(refusalReason(observed(true), violation)).toBe(violation.rawMessage);
    expect(violation.rawMessage).toContain("/password");
  });

  it("names no argument property when the caller was not allowed the tool", () => {
    const reason = refusalReason(observed(false), violation);
    expect(reason).not.toContain("password");
    expect(reason).toBe('invalid arguments for tool "vault" (the violations are not shown: the caller was not allowed the tool)');
  });

  it("leaves other refusals as they are", () => {
    const denied = new ConnectError('tool "vault" is restricted', Code.PermissionDenied);
    expect(refusalReason(observed(false), denied)).toBe('tool "vault" is restricted');
  });
});
