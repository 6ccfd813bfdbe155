import { toJsonString, type JsonObject } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { CallToolResponseSchema, type CallToolResponse } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { contentFromProto, type ToolStreamEvent } from "../client/tool-stream.js";
import type { Content } from "../registry/content.js";
import { callArgumentsHelp, parseCallArguments } from "./call-arguments.js";
import { CliExit, cliAction, exitCodes, exitCodesHelp, exitForRpcError, oneLine } from "./exit-codes.js";
import { createProgressReporter } from "./progress-bar.js";
import { addRemoteOptions, createRemoteClient, type RemoteFlags } from "./remote-options.js";

/** Flags of `toolwire call`. */
interface CallFlags extends RemoteFlags {
  args?: string;
  version?: string;
  stream?: boolean;
}

const examples = `
Examples:
  toolwire call echo message=hello
  toolwire call calculator operation=add a=2 b=3
  toolwire call echo --args '{"message": "hi", "uppercase": true}' --json
  echo '{"message": "from stdin"}' | toolwire call echo --args -
  toolwire call monitor_resources duration=5 interval=1 --stream
  TOOLWIRE_API_KEY=… toolwire call list_processes limit=3 --url https://tools.example.com

Output: the structured result as JSON (else the text content) on stdout; warnings, errors and,
with --stream, progress, logs and partial content on stderr (a progress bar on a terminal, plain
"progress 2/5 …", "log info …", "partial …" lines otherwise). --json prints the whole result as
one JSON object. Ctrl-C cancels the call on the server too.

${callArgumentsHelp}

${exitCodesHelp}`;

/** Adds `toolwire call <tool> [key=value ...]`: run a tool on a server and print its result. */
export function registerCallCommand(program: Command): void {
  const command = program
    .command("call")
    .description("call a tool on a running server and print its result")
    .argument("<tool>", "name of the tool")
    .argument("[arguments...]", "tool arguments as key=value or key:=json")
    .option("--args <json>", "arguments as a JSON object; '-' reads stdin, @file reads a file")
    .option("--version <version>", "exact version or semver range to call (default: the server's default)")
    .option("--stream", "stream progress, logs and partial content while the tool runs (CallToolStream)");
  addRemoteOptions(command)
    .addHelpText("after", examples)
    .action(cliAction("call", (tool: string, pairs: string[], flags: CallFlags) => callTool(tool, pairs, flags)));
}

async function callTool(tool: string, pairs: readonly string[], flags: CallFlags): Promise<void> {
  const args = await parseCallArguments(flags.args, pairs);
  const client = await createRemoteClient(flags);
  const controller = new AbortController();
  let interrupted: CliExit | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C does not wait for the server to confirm the cancel.
    if (interrupted !== undefined) process.exit(interrupted.exitCode);
    interrupted = new CliExit(signal === "SIGINT" ? exitCodes.interrupted : exitCodes.terminated, `${signal === "SIGINT" ? "interrupted" : "terminated"}: the call was cancelled`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const options = { version: flags.version, signal: controller.signal, timeoutMs: flags.timeout };
  let result: CallToolResponse | undefined;
  try {
    result = flags.stream === true ? await streamCall(client.callToolStream(tool, args as JsonObject, options)) : await client.callTool(tool, args as JsonObject, options);
  } catch (err) {
    throw interrupted ?? exitForRpcError(err, flags.url);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await client.disconnect();
  }
  if (interrupted !== undefined) throw interrupted;
  printResult(tool, result, flags.json === true);
}

/** Runs a streaming call, reporting its progress, logs and partial content on stderr. */
async function streamCall(stream: AsyncIterable<ToolStreamEvent>): Promise<CallToolResponse> {
  const reporter = createProgressReporter(process.stderr);
  try {
    for await (const event of stream) {
      switch (event.type) {
        case "progress":
          reporter.progress(event.done, event.total, event.message);
          break;
        case "log":
          reporter.line(`log ${event.level} ${event.message}`);
          break;
        case "partial":
          for (const block of event.content) reporter.line(`partial ${describeContent(block)}`);
          break;
        case "result":
          return event.result;
      }
    }
  } finally {
    reporter.finish();
  }
  // The client rejects a stream that ends without a result; this only satisfies the types.
  throw new Error("the stream ended without a result");
}

/** Prints a result: warnings on stderr, the output on stdout; an isError result exits 1. */
function printResult(tool: string, result: CallToolResponse, json: boolean): void {
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
  // The canonical protobuf JSON of the result, as curl gets it from the Connect API.
  if (json) process.stdout.write(`${toJsonString(CallToolResponseSchema, result)}\n`);
  const content = result.content.flatMap(contentFromProto);
  if (result.isError) {
    const text = content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("\n");
    throw new CliExit(exitCodes.failed, `tool "${result.toolName || tool}" reported an error: ${oneLine(text) || "(no message)"}`);
  }
  if (json) return;
  if (result.structuredContent !== undefined) {
    process.stdout.write(`${JSON.stringify(result.structuredContent, null, 2)}\n`);
    return;
  }
  for (const block of content) {
    if (block.type === "text") process.stdout.write(block.text.endsWith("\n") ? block.text : `${block.text}\n`);
    else process.stderr.write(`(${describeContent(block)} not printed; use --json to get it)\n`);
  }
}

/** One line describing a content block: its text, or its kind and size. */
function describeContent(block: Content): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "image":
    case "audio":
      return `[${block.type} ${block.mimeType}, ${Math.floor((block.data.length * 3) / 4)} bytes]`;
    case "resource":
      return `[resource ${block.resource.uri}]`;
    default:
      return `[${(block as { type: string }).type}]`;
  }
}
