// The toolwire command: every subcommand, parsed from process.argv.
import { Command } from "commander";
import { exitCodesHelp, exitOnCommanderError } from "./exit-codes.js";
import { version } from "../version.js";

/** Adds one command to the program. */
type RegisterCommand = (program: Command) => void;

/**
 * Every command's module, in the order help lists them. Only the module of the command being run
 * is loaded (a server's start skips the client commands' imports); help, --version and mistyped
 * commands load them all, so that help lists every one and "did you mean" knows them.
 */
const commands: Readonly<Record<string, () => Promise<RegisterCommand>>> = {
  serve: async () => (await import("./serve-command.js")).registerServeCommand,
  init: async () => (await import("./init-command.js")).registerInitCommand,
  generate: async () => (await import("./generate-command.js")).registerGenerateCommand,
  "hash-key": async () => (await import("./hash-key-command.js")).registerHashKeyCommand,
  mcp: async () => (await import("./mcp-command.js")).registerMcpCommand,
  list: async () => (await import("./list-command.js")).registerListCommand,
  call: async () => (await import("./call-command.js")).registerCallCommand,
  watch: async () => (await import("./watch-command.js")).registerWatchCommand,
  "new-tool": async () => (await import("./new-tool-command.js")).registerNewToolCommand,
};

const program = new Command("toolwire")
  .description("Schema-first tool server: serve tools over Connect, gRPC, gRPC-Web and HTTP, and generate their types.")
  .version(version)
  // Subcommand flags stay theirs: `toolwire call echo --version 1.0.0` pins the tool's version.
  .enablePositionalOptions()
  // Set before the commands are added, which copy it: usage errors exit 2, with a one-line reason.
  .exitOverride(exitOnCommanderError)
  .configureOutput({ outputError: (text, write) => write(text.startsWith("error: ") ? `${text.trimEnd()} (see --help)\n` : text) })
  .addHelpText("after", `\nRun \`toolwire <command> --help\` for a command's options and examples.\n\n${exitCodesHelp}`);

const asked = process.argv[2];
// Own keys only: "toString" is no command.
const loaders = asked !== undefined && Object.hasOwn(commands, asked) ? [commands[asked] as () => Promise<RegisterCommand>] : Object.values(commands);
for (const register of await Promise.all(loaders.map((load) => load()))) register(program);

await program.parseAsync(process.argv);
