import { basename } from "node:path";
import { version } from "../version.js";
import { projectConfigFile } from "./project-config.js";

/** What `toolwire init` is asked to make. */
export interface ProjectTemplateSpec {
  /** The project's folder; its name becomes the package name. */
  readonly dir: string;
  /** How package.json depends on toolwire (default `^<this version>`). */
  readonly toolwireSpec?: string | undefined;
}

/** Versions of the dev dependencies a tools project gets, as Toolwire itself is tested with. */
const devDependencies = { "@types/node": "20.19.25", tsx: "4.23.15", typescript: "5.9.3" };

/** The files of a new tools project, by path relative to its folder (gen/ is generated after). */
export function projectFiles(spec: ProjectTemplateSpec): ReadonlyMap<string, string> {
  const name = packageName(basename(spec.dir));
  return new Map([
    ["package.json", json(packageJson(name, spec.toolwireSpec ?? `^${version}`))],
    [projectConfigFile, json({ $schema: "./node_modules/toolwire/schemas/config.schema.json", server: { port: 8081 }, pluginDirs: ["tools"] })],
    ["tsconfig.json", json(tsconfig)],
    [".gitignore", "node_modules/\n# Secrets (API keys, JWT secrets) stay out of the repository.\n*.secret\njwt-secret.txt\n.env\n"],
    ["schemas/tools/greet.json", json(greetManifest)],
    ["tools/greet.ts", greetHandler],
    ["tools/greet.test.ts", greetTest],
    ["README.md", readme(name)],
  ]);
}

function packageJson(name: string, toolwireSpec: string): Record<string, unknown> {
  return {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      start: "toolwire serve",
      generate: "toolwire generate",
      "new-tool": "toolwire new-tool",
      test: "node --import tsx --test tools/*.test.ts",
      typecheck: "tsc --noEmit",
    },
    dependencies: { toolwire: toolwireSpec },
    devDependencies,
  };
}

const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
  },
  include: ["tools/**/*.ts", "gen/**/*.ts"],
};

const greetManifest = {
  $schema: "../../node_modules/toolwire/schemas/tool-manifest.schema.json",
  name: "greet",
  version: "1.0.0",
  title: "Greet",
  description: "Greets a person by name, in English or French.",
  category: "example",
  tags: ["example"],
  securityLevel: "public",
  timeoutMs: 5000,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  input: {
    type: "object",
    additionalProperties: false,
    required: ["name"],
    properties: {
      name: { type: "string", minLength: 1, maxLength: 200, description: "Who to greet." },
      language: { enum: ["en", "fr"], default: "en", description: "Language of the greeting." },
    },
  },
  output: {
    type: "object",
    additionalProperties: false,
    required: ["greeting"],
    properties: { greeting: { type: "string", description: "The greeting." } },
  },
};

const greetHandler = `import { defineTool } from "toolwire";
import { greetTool } from "../gen/tools/greet.js";

/** The \`greet\` tool: input and output are typed by schemas/tools/greet.json (run \`npm run generate\` after changing it). */
export const greet = defineTool(greetTool, (input) => {
  // The manifest's default fills in language before the handler runs.
  const greeting = input.language === "fr" ? \`Bonjour, \${input.name} !\` : \`Hello, \${input.name}!\`;
  return { greeting };
});
`;

const greetTest = `import assert from "node:assert/strict";
import { test } from "node:test";
import { runTool } from "toolwire/testing";
import { greet } from "./greet.js";

test("greet greets in English unless asked otherwise", async () => {
  const { output } = await runTool(greet, { name: "Ada" });
  assert.deepEqual(output, { greeting: "Hello, Ada!" });
});

test("greet refuses a language its manifest does not list", async () => {
  // @ts-expect-error: the generated input type allows only "en" and "fr".
  await assert.rejects(runTool(greet, { name: "Ada", language: "de" }), /\\/language: must be one of "en", "fr"/);
});
`;

function readme(name: string): string {
  return `# ${name}

Tools served by [Toolwire](https://www.npmjs.com/package/toolwire): over Connect, gRPC, gRPC-Web,
plain HTTP and MCP, from one port.

\`\`\`sh
npm install
npm test                     # the tools' tests (node:test)
npm start                    # serves them (and Toolwire's built-in tools) on http://127.0.0.1:8081
\`\`\`

- \`schemas/tools/<name>.json\`: a tool's manifest (JSON Schema of its input and output).
- \`tools/<name>.ts\`: its handler; \`tools/<name>.test.ts\`: its test.
- \`gen/\`: types and descriptors generated from the manifests by \`npm run generate\` (run it after changing one).
- \`toolwire.json\`: the server's config (port, API keys, rate limits, Redis, ...).

Add a tool with \`npx toolwire new-tool word_count\`, then call it:

\`\`\`sh
curl -sS http://127.0.0.1:8081/toolwire.v1.ToolService/CallTool \\
  -H 'content-type: application/json' -d '{"name": "greet", "arguments": {"name": "Ada"}}'
\`\`\`
`;
}

/** An npm package name made from a folder name: lower case, only the characters npm allows. */
function packageName(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "");
  return name === "" ? "my-tools" : name;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
