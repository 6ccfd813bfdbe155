import { toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { ToolSchema, type Tool } from "../../gen/proto/toolwire/v1/tool_pb.js";
import { securityLevelOf } from "../client/tool-metadata.js";
import { cliAction, exitCodesHelp, exitForRpcError } from "./exit-codes.js";
import { addRemoteOptions, createRemoteClient, type RemoteFlags } from "./remote-options.js";
import { formatTable } from "./text-table.js";

/** Flags of `toolwire list`. */
interface ListFlags extends RemoteFlags {
  category?: string;
  tag?: string;
  query?: string;
  includeDeprecated?: boolean;
  excludeExperimental?: boolean;
}

const examples = `
Examples:
  toolwire list
  toolwire list --category math
  toolwire list --query process --url https://tools.example.com
  toolwire list --json | jq -r '.[].name'

Lists the tools the caller may call (set TOOLWIRE_API_KEY to see more), at their default
versions, sorted by name. On a terminal the table is cut to its width.

${exitCodesHelp}`;

/** Adds `toolwire list`: a table (or JSON) of the tools a server offers the caller. */
export function registerListCommand(program: Command): void {
  const command = program
    .command("list")
    .description("list the tools a running server offers you, as a table or JSON")
    .option("--category <category>", "only tools in this category")
    .option("--tag <tag>", "only tools with this tag")
    .option("--query <text>", "only tools whose name, title, description or tags contain this text")
    .option("--include-deprecated", "also list tools whose default version is deprecated")
    .option("--exclude-experimental", "leave out experimental tools");
  addRemoteOptions(command)
    .addHelpText("after", examples)
    .action(cliAction("list", (flags: ListFlags) => listTools(flags)));
}

async function listTools(flags: ListFlags): Promise<void> {
  const client = await createRemoteClient(flags);
  let tools: Tool[];
  try {
    tools = await client.listTools({
      category: flags.category,
      tag: flags.tag,
      query: flags.query,
      includeDeprecated: flags.includeDeprecated === true,
      excludeExperimental: flags.excludeExperimental === true,
    });
  } catch (err) {
    throw exitForRpcError(err, flags.url);
  } finally {
    await client.disconnect();
  }
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify(tools.map((tool) => toJson(ToolSchema, tool)), null, 2)}\n`);
    return;
  }
  if (tools.length === 0) {
    process.stderr.write("no tools match (or none you may call: check --api-key / TOOLWIRE_API_KEY)\n");
    return;
  }
  process.stdout.write(`${toolTable(tools, process.stdout.isTTY ? process.stdout.columns : undefined)}\n`);
}

/** The table `toolwire list` prints: NAME VERSION LEVEL CATEGORY DESCRIPTION. */
export function toolTable(tools: readonly Tool[], width: number | undefined): string {
  const rows = tools.map((tool) => [tool.name, tool.version, securityLevelOf(tool), tool.category || "-", describe(tool)]);
  return formatTable(["NAME", "VERSION", "LEVEL", "CATEGORY", "DESCRIPTION"], rows, { width });
}

function describe(tool: Tool): string {
  const marks = [tool.deprecated && "[deprecated]", tool.experimental && "[experimental]", tool.streaming && "[streaming]"].filter(
    (m): m is string => typeof m === "string",
  );
  return [...marks, tool.description].join(" ");
}
