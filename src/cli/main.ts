import { Command } from "commander";
import { registerGenerateCommand } from "./generate-command.js";
import { registerHashKeyCommand } from "./hash-key-command.js";
import { registerServeCommand } from "./serve-command.js";
import { version } from "../version.js";

const program = new Command("toolwire")
  .description("Schema-first tool server: serve tools over Connect, gRPC, gRPC-Web and HTTP, and generate their types.")
  .version(version)
  .showHelpAfterError();

registerServeCommand(program);
registerGenerateCommand(program);
registerHashKeyCommand(program);

await program.parseAsync(process.argv);
