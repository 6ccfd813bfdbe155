// The toolwire command: every subcommand, parsed from process.argv.
import { Command } from "commander";
import { registerCallCommand } from "./call-command.js";
import { exitCodesHelp, exitOnCommanderError } from "./exit-codes.js";
import { registerGenerateCommand } from "./generate-command.js";
import { registerHashKeyCommand } from "./hash-key-command.js";
import { registerInitCommand } from "./init-command.js";
import { registerListCommand } from "./list-command.js";
import { registerMcpCommand } from "./mcp-command.js";
import { registerNewToolCommand } from "./new-tool-command.js";
import { registerServeCommand } from "./serve-command.js";
import { registerWatchCommand } from "./watch-command.js";
import { version } from "../version.js";

const program = new Command("toolwire")
  .description("Schema-first tool server: serve tools over Connect, gRPC, gRPC-Web and HTTP, and generate their types.")
  .version(version)
  // Subcommand flags stay theirs: `toolwire call echo --version 1.0.0` pins the tool's version.
  .enablePositionalOptions()
  // Set before the commands are added, which copy it: usage errors exit 2, with a one-line reason.
  .exitOverride(exitOnCommanderError)
  .configureOutput({ outputError: (text, write) => write(text.startsWith("error: ") ? `${text.trimEnd()} (see --help)\n` : text) })
  .addHelpText("after", `\nRun \`toolwire <command> --help\` for a command's options and examples.\n\n${exitCodesHelp}`);

registerServeCommand(program);
registerInitCommand(program);
registerGenerateCommand(program);
registerHashKeyCommand(program);
registerMcpCommand(program);
registerListCommand(program);
registerCallCommand(program);
registerWatchCommand(program);
registerNewToolCommand(program);

await program.parseAsync(process.argv);
