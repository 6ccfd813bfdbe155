import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ArgumentViolationsSchema, RetryInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import type { Content } from "../../src/registry/content.js";
import type { ToolDefinition } from "../../src/registry/define-tool.js";
import type { ToolContext } from "../../src/registry/tool-context.js";
import { createToolRegistry, type RegisteredTool } from "../../src/registry/tool-registry.js";
import { ToolError, toolError } from "../../src/registry/tool-result.js";
import {
  createCallPipeline,
  type CallPipeline,
  type CallPipelineOptions,
  type CallRequest,
} from "../../src/runtime/call-pipeline.js";
import type { Authenticator } from "../../src/runtime/caller.js";
import type { SecurityLevelName } from "../../src/security/security-level.js";
import { connectRejection, deferred, sleep, testCaller, tool } from "../helpers/registry-fixtures.js";

type JsonArgs = NonNullable<CallRequest["arguments"]>;

/** A pipeline over a fresh registry holding `tools`. */
function pipelineWith(tools: readonly ToolDefinition[], options: Omit<CallPipelineOptions, "registry"> = {}) {
  const registry = createToolRegistry();
  for (const t of tools) registry.register(t);
  return { registry, pipeline: createCallPipeline({ registry, ...options }) };
}

/** Calls `name` with `args` as an anonymous caller over an unaborted transport. */
function callTool(pipeline: CallPipeline, name: string, args?: JsonArgs, extra: Partial<CallRequest> = {}) {
  return pipeline.call({ name, arguments: args, caller: testCaller(), signal: new AbortController().signal, ...extra });
}

/** An authenticator that always answers the named non-anonymous principal. */
function as(id: string, level: SecurityLevelName, grants: readonly string[] = []): Authenticator {
  return () => ({ id, level, grants, anonymous: false });
}

/** A handler that reports it started, keeps its context, and never settles on its own. */
function hangingTool(name: string, overrides: Parameters<typeof tool>[0] = {}) {
  const started = deferred<ToolContext>();
  const def = tool({ name, ...overrides }, (_input, ctx) => {
    started.resolve(ctx);
    return new Promise<never>(() => {});
  });
  return { def, started: started.promise };
}

/** A handler that waits until released; counts its runs. */
function gatedTool(name: string, overrides: Parameters<typeof tool>[0] = {}) {
  const state = { runs: 0, release: () => {}, started: deferred<ToolContext>() };
  const gate = deferred();
  state.release = () => gate.resolve();
  const def = tool({ name, ...overrides }, async (_input, ctx) => {
    state.runs += 1;
    state.started.resolve(ctx);
    await gate.promise;
    return { done: true };
  });
  return { def, state };
}

/** Tracks whether a promise has settled yet, for tests that move fake time step by step. */
function settledFlag(promise: Promise<unknown>): { settled: boolean } {
  const flag = { settled: false };
  promise.then(
    () => (flag.settled = true),
    () => (flag.settled = true),
  );
  return flag;
}

afterEach(() => {
  vi.useRealTimers();
});

function textOf(content: readonly Content[]): string[] {
  return content.map((c) => (c.type === "text" ? c.text : `<${c.type}>`));
}

describe("call pipeline: input", () => {
  it("returns structured output with its JSON text and the call's identity", async () => {
    const { pipeline } = pipelineWith([tool({ name: "add", version: "1.2.0" }, () => ({ sum: 3 }))]);
    const result = await callTool(pipeline, "add", {}, { requestId: "req-42" });
    expect(result.isError).toBe(false);
    expect(result.structuredContent).toEqual({ sum: 3 });
    expect(textOf(result.content)).toEqual(['{"sum":3}']);
    expect(result.toolName).toBe("add");
    expect(result.toolVersion).toBe("1.2.0");
    expect(result.requestId).toBe("req-42");
    expect(result.warnings).toEqual([]);
    expect(result.executionTimeMs).toBeGreaterThanOrEqual(0);
  });

  it("applies defaults from the input schema before the handler sees its input", async () => {
    const seen: unknown[] = [];
    const { pipeline } = pipelineWith([
      tool(
        {
          name: "defaults",
          input: {
            type: "object",
            properties: {
              count: { type: "integer", default: 2 },
              mode: { enum: ["fast", "slow"], default: "fast" },
              opts: { type: "object", properties: { loud: { type: "boolean", default: false } } },
            },
          },
        },
        (input) => {
          seen.push(structuredClone(input));
          return "ok";
        },
      ),
    ]);
    await callTool(pipeline, "defaults", { mode: "slow", opts: {} });
    await callTool(pipeline, "defaults");
    expect(seen).toEqual([
      { count: 2, mode: "slow", opts: { loud: false } },
      { count: 2, mode: "fast" },
    ]);
  });

  it("reports every violation with its JSON pointer and never runs the handler", async () => {
    let runs = 0;
    const { pipeline } = pipelineWith([
      tool(
        {
          name: "strict",
          input: {
            type: "object",
            additionalProperties: false,
            required: ["name"],
            properties: { name: { type: "string" }, count: { type: "integer", maximum: 10 } },
          },
        },
        () => {
          runs += 1;
          return "ran";
        },
      ),
    ]);

    const err = await connectRejection(callTool(pipeline, "strict", { name: 5, count: "many" }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain(`tool "strict"`);
    expect(err.rawMessage).toContain("/name");
    expect(err.rawMessage).toContain("/count");
    const [details] = err.findDetails(ArgumentViolationsSchema);
    expect(details).toBeDefined();
    const violations = [...(details?.violations ?? [])]
      .map((v) => ({ pointer: v.pointer, keyword: v.keyword, message: v.message }))
      .sort((a, b) => a.pointer.localeCompare(b.pointer));
    expect(violations).toEqual([
      { pointer: "/count", keyword: "type", message: "must be integer" },
      { pointer: "/name", keyword: "type", message: "must be string" },
    ]);

    const missing = await connectRejection(callTool(pipeline, "strict", { count: 11, extra: true }));
    const pointers = missing.findDetails(ArgumentViolationsSchema)[0]?.violations.map((v) => `${v.pointer} ${v.keyword}`);
    expect(pointers?.sort()).toEqual(["/count maximum", "/extra additionalProperties", "/name required"]);
    expect(runs).toBe(0);
  });

  it("refuses arguments nested deeper than maxArgumentDepth", async () => {
    let runs = 0;
    const { pipeline } = pipelineWith(
      [
        tool({ name: "deep" }, () => {
          runs += 1;
          return "ok";
        }),
      ],
      { maxArgumentDepth: 3 },
    );
    await expect(callTool(pipeline, "deep", { a: { b: { c: 1 } } })).resolves.toMatchObject({ isError: false });
    await expect(callTool(pipeline, "deep", { a: [[1]] })).resolves.toMatchObject({ isError: false });
    expect(runs).toBe(2);

    for (const args of [{ a: { b: { c: {} } } }, { a: [[[1]]] }] as JsonArgs[]) {
      const err = await connectRejection(callTool(pipeline, "deep", args));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/nested deeper than 3 levels/);
      expect(err.findDetails(ArgumentViolationsSchema)[0]?.violations[0]?.keyword).toBe("maxDepth");
    }
    expect(runs).toBe(2);
  });

  it("refuses hostile nesting with the default depth limit", async () => {
    const { pipeline } = pipelineWith([tool({ name: "deep" }, () => "ok")]);
    let args: JsonArgs = {};
    for (let i = 0; i < 1000; i++) args = { n: args };
    expect((await connectRejection(callTool(pipeline, "deep", args))).code).toBe(Code.InvalidArgument);
  });

  it("answers not_found for an unknown tool", async () => {
    const { pipeline } = pipelineWith([]);
    expect((await connectRejection(callTool(pipeline, "ghost"))).code).toBe(Code.NotFound);
  });
});

describe("call pipeline: output", () => {
  const output = {
    type: "object" as const,
    additionalProperties: false,
    required: ["n"],
    properties: { n: { type: "integer" } },
  };

  it("accepts output that matches the output schema", async () => {
    const { pipeline } = pipelineWith([tool({ name: "good", output }, () => ({ n: 1 }))]);
    expect((await callTool(pipeline, "good")).structuredContent).toEqual({ n: 1 });
  });

  it("answers internal, naming the tool, when output breaks the output schema", async () => {
    const { pipeline } = pipelineWith([tool({ name: "liar", output }, () => ({ n: "one" }))]);
    const err = await connectRejection(callTool(pipeline, "liar"));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toContain(`tool "liar"`);
    expect(err.rawMessage).toContain("/n");
  });

  it("does not check the output schema of an error result", async () => {
    const { pipeline } = pipelineWith([tool({ name: "fails", output }, () => toolError("no n today"))]);
    const result = await callTool(pipeline, "fails");
    expect(result.isError).toBe(true);
    expect(textOf(result.content)).toEqual(["no n today"]);
  });
});

describe("call pipeline: partial content, progress and logs", () => {
  const chatty = (ctx: ToolContext) => {
    ctx.progress(1, 3, "starting");
    ctx.partial("first");
    ctx.log("info", "halfway");
    ctx.progress(2);
    ctx.partial([{ type: "text", text: "second" }, { type: "image", data: "AAAA", mimeType: "image/png" }]);
    ctx.log("warning", "almost");
    ctx.partial({ type: "text", text: "third" });
    return "final";
  };

  it("collects partial content into a unary result before the final content and drops progress and logs", async () => {
    const { pipeline } = pipelineWith([tool({ name: "chatty" }, (_i, ctx) => chatty(ctx))]);
    const result = await callTool(pipeline, "chatty");
    expect(textOf(result.content)).toEqual(["first", "second", "<image>", "third", "final"]);
    expect(JSON.stringify(result)).not.toMatch(/starting|halfway|almost/);
  });

  it("sends progress, partial content and logs to the sink in order, and only the final content in the result", async () => {
    const { pipeline } = pipelineWith([tool({ name: "chatty" }, (_i, ctx) => chatty(ctx))]);
    const events: string[] = [];
    const result = await callTool(pipeline, "chatty", {}, {
      sink: {
        progress: (done, total, message) => events.push(`progress ${done}/${total ?? "?"} ${message}`),
        partial: (content) => events.push(`partial ${textOf(content).join(",")}`),
        log: (level, message) => events.push(`log ${level} ${message}`),
      },
    });
    expect(events).toEqual([
      "progress 1/3 starting",
      "partial first",
      "log info halfway",
      "progress 2/? ",
      "partial second,<image>",
      "log warning almost",
      "partial third",
    ]);
    expect(textOf(result.content)).toEqual(["final"]);
  });

  it("keeps partial content emitted before a handler failure", async () => {
    const { pipeline } = pipelineWith([
      tool({ name: "half" }, (_i, ctx) => {
        ctx.partial("got this far");
        throw new ToolError("then it broke");
      }),
    ]);
    const result = await callTool(pipeline, "half");
    expect(result.isError).toBe(true);
    expect(textOf(result.content)).toEqual(["got this far", "then it broke"]);
  });
});

describe("call pipeline: handler failures", () => {
  it("turns a thrown Error into an error result that keeps its message and stack on the server", async () => {
    const failures: unknown[] = [];
    const boom = new Error("boom\n    at secret stack (/srv/app/secret.ts:1:1)\n    at more");
    const { pipeline } = pipelineWith([tool({ name: "explode" }, () => { throw boom; })], {
      onHandlerError: (_tool, _id, error) => failures.push(error),
    });
    const result = await callTool(pipeline, "explode");
    expect(result.isError).toBe(true);
    expect(result.content).toHaveLength(1);
    const [text] = textOf(result.content);
    expect(text).toBe(`tool "explode" failed with an unexpected error; the server log has the details (request ${result.requestId})`);
    expect(text).not.toContain("boom");
    expect(text).not.toContain("\n");
    expect(text).not.toMatch(/\bat /);
    expect(text).not.toContain("secret");
    expect(failures).toEqual([boom]);
  });

  it("turns an async rejection into an error result too", async () => {
    const { pipeline } = pipelineWith([
      tool({ name: "reject" }, async () => {
        await sleep(1);
        throw new Error("async boom");
      }),
    ]);
    const result = await callTool(pipeline, "reject");
    expect(result.isError).toBe(true);
    expect(textOf(result.content)[0]).toMatch(/^tool "reject" failed with an unexpected error/);
    expect(textOf(result.content)[0]).not.toContain("async boom");
  });

  it("passes a ToolError message to the caller as is", async () => {
    const failures: unknown[] = [];
    const { pipeline } = pipelineWith(
      [tool({ name: "picky" }, () => { throw new ToolError("city 'Atlantis' is not on any map"); })],
      { onHandlerError: (_tool, _id, error) => failures.push(error) },
    );
    const result = await callTool(pipeline, "picky");
    expect(result.isError).toBe(true);
    expect(textOf(result.content)).toEqual(["city 'Atlantis' is not on any map"]);
    expect(failures).toEqual([]);
  });

  it("answers deadline_exceeded, not an error result, when the handler throws after its timeout", async () => {
    const thrown = deferred();
    const { pipeline } = pipelineWith([
      tool({ name: "late", timeoutMs: 50 }, async (_i, ctx) => {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        await sleep(20);
        thrown.resolve();
        throw new Error("failed after the deadline");
      }),
    ]);
    const err = await connectRejection(callTool(pipeline, "late"));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.rawMessage).not.toContain("failed after the deadline");
    // The late rejection must be absorbed (vitest fails the run on an unhandled rejection).
    await thrown.promise;
    await sleep(10);
    expect(pipeline.inFlight).toBe(0);
  });
});

describe("call pipeline: deadlines and cancellation", () => {
  it("aborts ctx.signal with deadline_exceeded at the tool's timeout and answers promptly though the handler ignores it", async () => {
    vi.useFakeTimers();
    const { def, started } = hangingTool("stuck", { timeoutMs: 50 });
    const { pipeline } = pipelineWith([def]);
    const call = callTool(pipeline, "stuck");
    const answered = settledFlag(call);
    const ctx = await started;
    expect(ctx.deadline).toBe(Date.now() + 50);
    await vi.advanceTimersByTimeAsync(49);
    expect(answered.settled).toBe(false);
    expect(ctx.signal.aborted).toBe(false);
    // The timeout, and nothing after it, answers the call.
    await vi.advanceTimersByTimeAsync(1);
    expect(answered.settled).toBe(true);
    const err = await connectRejection(call);
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.rawMessage).toContain(`tool "stuck" timed out after 50 ms`);
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason).toBeInstanceOf(ConnectError);
    expect((ctx.signal.reason as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(pipeline.inFlight).toBe(0);
  });

  it("uses defaultTimeoutMs for a tool whose manifest sets none", async () => {
    const { def } = hangingTool("stuck");
    const { pipeline } = pipelineWith([def], { defaultTimeoutMs: 40 });
    const err = await connectRejection(callTool(pipeline, "stuck"));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.rawMessage).toContain("40 ms");
  });

  it("answers deadline_exceeded naming the client's deadline when it is shorter than the tool's timeout", async () => {
    vi.useFakeTimers();
    const { def, started } = hangingTool("stuck", { timeoutMs: 5000 });
    const { pipeline } = pipelineWith([def]);
    const call = callTool(pipeline, "stuck", {}, { clientTimeoutMs: 40 });
    const answered = settledFlag(call);
    await vi.advanceTimersByTimeAsync(40);
    expect(answered.settled).toBe(true);
    const err = await connectRejection(call);
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.rawMessage).toContain("client's deadline");
    expect(err.rawMessage).toContain("40 ms");
    expect((await started).signal.aborted).toBe(true);
  });

  it("keeps the tool's own timeout when the client's deadline is longer", async () => {
    const { def } = hangingTool("stuck", { timeoutMs: 40 });
    const { pipeline } = pipelineWith([def]);
    const err = await connectRejection(callTool(pipeline, "stuck", {}, { clientTimeoutMs: 60_000 }));
    expect(err.rawMessage).toContain("timed out after 40 ms");
    expect(err.rawMessage).not.toContain("client");
  });

  it("answers canceled and aborts the handler's signal when the transport aborts", async () => {
    const { def, started } = hangingTool("stuck", { timeoutMs: 5000 });
    const { pipeline } = pipelineWith([def]);
    const transport = new AbortController();
    const call = callTool(pipeline, "stuck", {}, { signal: transport.signal });
    const ctx = await started;
    expect(ctx.signal.aborted).toBe(false);
    transport.abort();
    const err = await connectRejection(call);
    expect(err.code).toBe(Code.Canceled);
    expect(ctx.signal.aborted).toBe(true);
    expect(pipeline.inFlight).toBe(0);
  });

  it("never runs the handler when the transport signal is already aborted", async () => {
    let runs = 0;
    const { pipeline } = pipelineWith([tool({ name: "t" }, () => { runs += 1; return "ran"; })]);
    const transport = new AbortController();
    transport.abort();
    expect((await connectRejection(callTool(pipeline, "t", {}, { signal: transport.signal }))).code).toBe(Code.Canceled);
    expect(runs).toBe(0);
  });

  it("drops progress, logs and partial content emitted after the call was aborted", async () => {
    const events: string[] = [];
    const aborted = deferred();
    const { pipeline } = pipelineWith([
      tool({ name: "ghost", timeoutMs: 30 }, async (_i, ctx) => {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        ctx.progress(1, 1, "late");
        ctx.partial("late");
        ctx.log("info", "late");
        aborted.resolve();
        return "late";
      }),
    ]);
    const sink = {
      progress: () => events.push("progress"),
      partial: () => events.push("partial"),
      log: () => events.push("log"),
    };
    expect((await connectRejection(callTool(pipeline, "ghost", {}, { sink }))).code).toBe(Code.DeadlineExceeded);
    await aborted.promise;
    expect(events).toEqual([]);
  });
});

describe("call pipeline: authentication and authorization, with revealHiddenTools", () => {
  it("answers unauthenticated for an authenticated-level tool called anonymously, without running it", async () => {
    let runs = 0;
    const { pipeline } = pipelineWith([
      tool({ name: "private", securityLevel: "authenticated" }, () => { runs += 1; return "secret"; }),
    ], { revealHiddenTools: true });
    const err = await connectRejection(callTool(pipeline, "private"));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toContain(`tool "private"`);
    expect(runs).toBe(0);
  });

  it("lets anonymous callers run public tools", async () => {
    const { pipeline } = pipelineWith([tool({ name: "open" }, (_i, ctx) => ctx.principal.id)]);
    expect(textOf((await callTool(pipeline, "open")).content)).toEqual(["anonymous"]);
  });

  it("passes the authenticated principal to the handler", async () => {
    const { pipeline } = pipelineWith([tool({ name: "whoami", securityLevel: "authenticated" }, (_i, ctx) => ctx.principal.id)], {
      authenticate: as("bob", "authenticated"),
    });
    expect(textOf((await callTool(pipeline, "whoami")).content)).toEqual(["bob"]);
  });

  it("answers permission_denied to an authenticated caller without grants calling a restricted tool", async () => {
    let runs = 0;
    const { pipeline } = pipelineWith(
      [tool({ name: "reboot", category: "ops", securityLevel: "restricted" }, () => { runs += 1; return "ok"; })],
      { authenticate: as("bob", "authenticated"), revealHiddenTools: true },
    );
    const err = await connectRejection(callTool(pipeline, "reboot"));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toContain("bob");
    expect(runs).toBe(0);
  });

  it("refuses a restricted tool to an authenticated caller even with a grant: the level comes first", async () => {
    let ran = false;
    const { pipeline } = pipelineWith(
      [tool({ name: "reboot", category: "ops", securityLevel: "restricted" }, () => ((ran = true), "rebooted"))],
      { authenticate: as("bob", "authenticated", ["category:ops"]), revealHiddenTools: true },
    );
    const err = await callTool(pipeline, "reboot").then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.PermissionDenied);
    expect(err?.rawMessage).toBe('tool "reboot" requires the restricted level; caller "bob" has authenticated');
    expect(ran).toBe(false);
  });

  it("lets a restricted-level caller in with a category grant, a tool-name grant or category:*, and not with another category's grant", async () => {
    const reboot = tool({ name: "reboot", category: "ops", securityLevel: "restricted" }, () => "rebooted");
    for (const grants of [["category:ops"], ["reboot"], ["category:*"]]) {
      const { pipeline } = pipelineWith([reboot], { authenticate: as("carol", "restricted", grants) });
      expect((await callTool(pipeline, "reboot")).isError, grants.join()).toBe(false);
    }
    for (const grants of [[], ["category:billing"], ["rebooter"]]) {
      const { pipeline } = pipelineWith([reboot], { authenticate: as("carol", "restricted", grants), revealHiddenTools: true });
      expect((await connectRejection(callTool(pipeline, "reboot"))).code, grants.join()).toBe(Code.PermissionDenied);
    }
  });

  it("answers permission_denied to a non-admin caller of an admin tool", async () => {
    const { pipeline } = pipelineWith([tool({ name: "wipe", securityLevel: "admin" }, () => "wiped")], {
      authenticate: as("carol", "restricted", ["category:*", "wipe"]),
      revealHiddenTools: true,
    });
    expect((await connectRejection(callTool(pipeline, "wipe"))).code).toBe(Code.PermissionDenied);
  });

  it("lets an admin call restricted and admin tools without grants", async () => {
    const { pipeline } = pipelineWith(
      [
        tool({ name: "reboot", category: "ops", securityLevel: "restricted" }, () => "rebooted"),
        tool({ name: "wipe", securityLevel: "admin" }, () => "wiped"),
      ],
      { authenticate: as("root", "admin") },
    );
    expect(textOf((await callTool(pipeline, "reboot")).content)).toEqual(["rebooted"]);
    expect(textOf((await callTool(pipeline, "wipe")).content)).toEqual(["wiped"]);
  });

  it("answers with the authenticator's error for bad credentials", async () => {
    const { pipeline } = pipelineWith([tool({ name: "open" }, () => "ok")], {
      authenticate: () => {
        throw new ConnectError("invalid API key", Code.Unauthenticated);
      },
    });
    const err = await connectRejection(callTool(pipeline, "open"));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toBe("invalid API key");
  });
});

describe("call pipeline: tools hidden from the caller", () => {
  const tools = [
    tool({ name: "private", securityLevel: "authenticated" }, () => "secret"),
    tool({ name: "reboot", category: "ops", securityLevel: "restricted" }, () => "rebooted"),
    tool({ name: "wipe", securityLevel: "admin" }, () => "wiped"),
  ];
  const answer = (pipeline: CallPipeline, name: string, version?: string) =>
    connectRejection(callTool(pipeline, name, {}, version === undefined ? {} : { version })).then((e) => [e.code, e.rawMessage]);

  it("answers a tool the caller may not list exactly as one that does not exist, and never runs it", async () => {
    let runs = 0;
    const counted = tools.map((t) => ({ ...t, handler: () => ((runs += 1), "ran") }));
    for (const authenticate of [undefined, as("bob", "authenticated", ["category:ops", "wipe"]), as("carol", "restricted")]) {
      const { pipeline } = pipelineWith(counted, { authenticate });
      const missing = await answer(pipeline, "nothing-here");
      expect(missing).toEqual([Code.NotFound, 'tool "nothing-here" not found']);
      for (const name of authenticate === undefined ? ["private", "reboot", "wipe"] : ["reboot", "wipe"]) {
        expect(await answer(pipeline, name)).toEqual([Code.NotFound, `tool "${name}" not found`]);
      }
    }
    expect(runs).toBe(0);
  });

  it("answers every version asked of a hidden tool as for a missing one, a malformed range included", async () => {
    const { pipeline } = pipelineWith(tools);
    for (const version of ["1.0.0", "9.9.9", "^1", "not a range"]) {
      expect(await answer(pipeline, "wipe", version)).toEqual([Code.NotFound, 'tool "wipe" not found']);
    }
    expect((await connectRejection(callTool(pipeline, "nothing-here", {}, { version: "not a range" }))).code).toBe(Code.NotFound);
  });

  it("lists only the versions the caller may call when the one asked for is hidden", async () => {
    const { pipeline } = pipelineWith([
      tool({ name: "deploy", version: "1.0.0" }, () => "v1"),
      tool({ name: "deploy", version: "2.0.0", securityLevel: "admin" }, () => "v2"),
    ]);
    expect(await answer(pipeline, "deploy", "2.0.0")).toEqual([Code.NotFound, 'tool "deploy" has no version matching "2.0.0" (available: 1.0.0)']);
    expect(await answer(pipeline, "deploy", "^3")).toEqual([Code.NotFound, 'tool "deploy" has no version matching "^3" (available: 1.0.0)']);
    expect(textOf((await callTool(pipeline, "deploy", {}, { version: "1.0.0" })).content)).toEqual(["v1"]);
  });

  it("tells observers (the audit log) the refusal behind the not_found answer", async () => {
    const outcomes: [string, string | undefined][] = [];
    const { pipeline } = pipelineWith(tools, {
      authenticate: as("bob", "authenticated"),
      observers: [{ callEnded: (_call, outcome) => outcomes.push([outcome.code, outcome.error?.rawMessage]) }],
    });
    expect(await answer(pipeline, "wipe")).toEqual([Code.NotFound, 'tool "wipe" not found']);
    expect(await answer(pipeline, "nothing-here")).toEqual([Code.NotFound, 'tool "nothing-here" not found']);
    expect(outcomes).toEqual([
      ["permission_denied", 'tool "wipe" requires the admin level; caller "bob" has authenticated'],
      ["not_found", 'tool "nothing-here" not found'],
    ]);
  });

  it("suggests a close tool name the caller may list, and never a hidden one", async () => {
    const echos = tool({ name: "echos", securityLevel: "admin" }, () => "hidden");
    const { pipeline } = pipelineWith([...tools, tool({ name: "echo" }, () => "echo"), echos]);
    expect(await answer(pipeline, "echoo")).toEqual([Code.NotFound, 'tool "echoo" not found; did you mean "echo"?']);
    // "wipe", "private" and "echos" are hidden from an anonymous caller: never guessed, even when closest.
    expect(await answer(pipeline, "wipes")).toEqual([Code.NotFound, 'tool "wipes" not found']);
    expect(await answer(pipeline, "privte")).toEqual([Code.NotFound, 'tool "privte" not found']);
    expect(await answer(pipeline, "echoss")).toEqual([Code.NotFound, 'tool "echoss" not found; did you mean "echo"?']);
    // A hidden tool's own name is answered as a missing name would be, guess included.
    expect(await answer(pipeline, "echos")).toEqual([Code.NotFound, 'tool "echos" not found; did you mean "echo"?']);
    const admin = pipelineWith(tools, { authenticate: as("root", "admin") }).pipeline;
    expect(await answer(admin, "wipes")).toEqual([Code.NotFound, 'tool "wipes" not found; did you mean "wipe"?']);
    const revealing = pipelineWith(tools, { revealHiddenTools: true }).pipeline;
    expect(await answer(revealing, "wipes")).toEqual([Code.NotFound, 'tool "wipes" not found']);
  });

  it("still answers bad credentials with unauthenticated", async () => {
    const { pipeline } = pipelineWith(tools, {
      authenticate: () => {
        throw new ConnectError("invalid API key", Code.Unauthenticated);
      },
    });
    expect(await answer(pipeline, "wipe")).toEqual([Code.Unauthenticated, "invalid API key"]);
  });
});

describe("call pipeline: limits", () => {
  it("lets exactly maxCalls of 10 concurrent calls through and refuses the rest with a retry delay", async () => {
    let runs = 0;
    const { pipeline } = pipelineWith([
      tool({ name: "limited", rateLimit: { maxCalls: 3, windowSeconds: 60 } }, async () => {
        runs += 1;
        await sleep(5);
        return "ok";
      }),
    ]);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => callTool(pipeline, "limited")));
    const fulfilled = outcomes.filter((o) => o.status === "fulfilled");
    const rejected = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
    expect(fulfilled).toHaveLength(3);
    expect(runs).toBe(3);
    expect(rejected).toHaveLength(7);
    for (const reason of rejected) {
      expect(reason).toBeInstanceOf(ConnectError);
      const err = reason as ConnectError;
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(err.rawMessage).toContain(`tool "limited"`);
      const [retry] = err.findDetails(RetryInfoSchema);
      expect(retry?.retryDelay).toBeDefined();
      const delay = durationMs(retry!.retryDelay!);
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(60_000);
    }
  });

  it("keeps a separate budget per caller", async () => {
    const { pipeline } = pipelineWith([tool({ name: "limited", rateLimit: { maxCalls: 1, windowSeconds: 60 } }, () => "ok")]);
    await callTool(pipeline, "limited", {}, { caller: testCaller("10.0.0.1") });
    const err = await connectRejection(callTool(pipeline, "limited", {}, { caller: testCaller("10.0.0.1") }));
    expect(err.code).toBe(Code.ResourceExhausted);
    await expect(callTool(pipeline, "limited", {}, { caller: testCaller("10.0.0.2") })).resolves.toMatchObject({
      isError: false,
    });
  });

  it("refuses a second concurrent call past maxConcurrency 1 and accepts one once the first is done", async () => {
    const { def, state } = gatedTool("single", { maxConcurrency: 1 });
    const { pipeline } = pipelineWith([def]);
    const first = callTool(pipeline, "single");
    await state.started.promise;
    const err = await connectRejection(callTool(pipeline, "single"));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.findDetails(RetryInfoSchema)).toHaveLength(1);
    expect(state.runs).toBe(1);
    state.release();
    await expect(first).resolves.toMatchObject({ isError: false });
    await expect(callTool(pipeline, "single")).resolves.toMatchObject({ isError: false });
    expect(state.runs).toBe(2);
  });

  it("counts concurrency per tool version", async () => {
    const a = gatedTool("single", { maxConcurrency: 1, version: "1.0.0" });
    const { pipeline } = pipelineWith([a.def, tool({ name: "single", version: "2.0.0", maxConcurrency: 1 }, () => "v2")]);
    const first = callTool(pipeline, "single", {}, { version: "1.0.0" });
    await a.state.started.promise;
    await expect(callTool(pipeline, "single", {}, { version: "2.0.0" })).resolves.toMatchObject({ toolVersion: "2.0.0" });
    a.state.release();
    await first;
  });
});

describe("call pipeline: versions", () => {
  it("warns, naming the newer version, when a deprecated version is called", async () => {
    const { pipeline } = pipelineWith([
      tool({ name: "calc", version: "1.0.0", deprecated: true }, () => "old"),
      tool({ name: "calc", version: "2.0.0" }, () => "new"),
    ]);
    const old = await callTool(pipeline, "calc", {}, { version: "1.0.0" });
    expect(textOf(old.content)).toEqual(["old"]);
    expect(old.toolVersion).toBe("1.0.0");
    expect(old.warnings).toHaveLength(1);
    expect(old.warnings[0]).toContain("1.0.0");
    expect(old.warnings[0]).toMatch(/deprecated/);
    expect(old.warnings[0]).toContain("2.0.0");

    const current = await callTool(pipeline, "calc");
    expect(current.toolVersion).toBe("2.0.0");
    expect(current.warnings).toEqual([]);
  });

  it("resolves a version range for the call", async () => {
    const { pipeline } = pipelineWith([
      tool({ name: "calc", version: "1.4.0" }, () => "1.4"),
      tool({ name: "calc", version: "2.0.0" }, () => "2.0"),
    ]);
    expect((await callTool(pipeline, "calc", {}, { version: "^1" })).toolVersion).toBe("1.4.0");
    expect((await connectRejection(callTool(pipeline, "calc", {}, { version: "^3" }))).code).toBe(Code.NotFound);
    expect((await connectRejection(callTool(pipeline, "calc", {}, { version: "nope!" }))).code).toBe(Code.InvalidArgument);
  });
});

describe("call pipeline: in-flight calls and drain", () => {
  it("counts the calls in flight", async () => {
    const a = gatedTool("a");
    const b = gatedTool("b");
    const { pipeline } = pipelineWith([a.def, b.def, tool({ name: "strict", input: { type: "object", required: ["x"] } })]);
    expect(pipeline.inFlight).toBe(0);
    const callA = callTool(pipeline, "a");
    const callB = callTool(pipeline, "b");
    await Promise.all([a.state.started.promise, b.state.started.promise]);
    expect(pipeline.inFlight).toBe(2);
    await connectRejection(callTool(pipeline, "strict"));
    expect(pipeline.inFlight).toBe(2);
    a.state.release();
    await callA;
    expect(pipeline.inFlight).toBe(1);
    b.state.release();
    await callB;
    expect(pipeline.inFlight).toBe(0);
  });

  it("resolves drain at once when nothing runs, and refuses later calls with unavailable", async () => {
    const { pipeline } = pipelineWith([tool({ name: "t" }, () => "ok")]);
    expect(pipeline.draining).toBe(false);
    await pipeline.drain(10_000);
    expect(pipeline.draining).toBe(true);
    const err = await connectRejection(callTool(pipeline, "t"));
    expect(err.code).toBe(Code.Unavailable);
  });

  it("refuses new calls with unavailable while draining and lets a running call finish within the grace period", async () => {
    const slow = gatedTool("slow", { timeoutMs: 10_000 });
    const { pipeline } = pipelineWith([slow.def, tool({ name: "quick" }, () => "ok")]);
    const running = callTool(pipeline, "slow");
    const ctx = await slow.state.started.promise;

    let drained = false;
    const draining = pipeline.drain(5_000).then(() => (drained = true));
    expect(pipeline.draining).toBe(true);
    expect(pipeline.inFlight).toBe(1);

    const refused = await connectRejection(callTool(pipeline, "quick"));
    expect(refused.code).toBe(Code.Unavailable);
    await sleep(20);
    expect(drained).toBe(false);

    slow.state.release();
    await expect(running).resolves.toMatchObject({ isError: false, structuredContent: { done: true } });
    await draining;
    expect(ctx.signal.aborted).toBe(false);
    expect(pipeline.inFlight).toBe(0);
  });

  it("aborts a call still running after the grace period, answering it unavailable", async () => {
    vi.useFakeTimers();
    const { def, started } = hangingTool("stubborn", { timeoutMs: 10_000 });
    const { pipeline } = pipelineWith([def]);
    const running = callTool(pipeline, "stubborn");
    const answered = settledFlag(running);
    const ctx = await started;
    const drained = pipeline.drain(50);
    await vi.advanceTimersByTimeAsync(49);
    expect(answered.settled).toBe(false);
    expect(ctx.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(answered.settled).toBe(true);
    const err = await connectRejection(running);
    await drained;
    expect(err.code).toBe(Code.Unavailable);
    expect(ctx.signal.aborted).toBe(true);
    expect((ctx.signal.reason as ConnectError).code).toBe(Code.Unavailable);
    expect(pipeline.inFlight).toBe(0);
  });

  it("resolves every drain() call when drain is called again while draining", async () => {
    // Time stands still: both drains must end because the call did, not because the grace ran out.
    vi.useFakeTimers();
    const slow = gatedTool("slow", { timeoutMs: 10_000 });
    const { pipeline } = pipelineWith([slow.def]);
    const running = callTool(pipeline, "slow");
    await slow.state.started.promise;
    const settled: string[] = [];
    const first = pipeline.drain(5_000).then(() => settled.push("first"));
    const second = pipeline.drain(5_000).then(() => settled.push("second"));
    slow.state.release();
    await running;
    await vi.advanceTimersByTimeAsync(0);
    expect(settled.sort()).toEqual(["first", "second"]);
    await Promise.all([first, second]);
  });
});

describe("call pipeline: access checks for listings", () => {
  it("tells whether a principal may call a tool", () => {
    const { registry, pipeline } = pipelineWith([
      tool({ name: "open" }),
      tool({ name: "private", securityLevel: "authenticated" }),
    ]);
    const anonymous = { id: "anonymous", level: "public" as const, grants: [], anonymous: true };
    const bob = { id: "bob", level: "authenticated" as const, grants: [], anonymous: false };
    const resolved: RegisteredTool = registry.resolve("private");
    expect(pipeline.canCall(anonymous, registry.resolve("open"))).toBe(true);
    expect(pipeline.canCall(anonymous, resolved)).toBe(false);
    expect(pipeline.canCall(bob, resolved)).toBe(true);
    expect(() => pipeline.resolveFor(anonymous, "private")).toThrow('tool "private" not found');
    expect(pipeline.resolveFor(bob, "private")).toBe(resolved);
  });
});
