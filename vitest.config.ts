import { configDefaults, defineConfig } from "vitest/config";

/**
 * Which project a test file belongs to.
 *
 * - `unit` is everything that runs inside the test process: handlers, the pipeline, in-process
 *   servers on 127.0.0.1 with real clients. It starts no other program and runs in under a minute.
 * - `e2e` is every file that starts another program (the `toolwire` CLI, node or tsx children,
 *   redis-server, nginx, curl, openssl, tsc, buf, python3, sha256sum) or, like the client failover tests,
 *   waits out real retries and back-offs across several servers.
 *
 * A new test file is `unit` unless it matches a glob below: when a file starts a program, add it
 * here (a whole folder where the folder is about programs, else the file itself).
 */
const e2e = [
  // Folders about programs: the CLI, Redis clusters, nginx in front of instances, the fuzzer's
  // live toolwire serve.
  "test/cli/**/*.test.ts",
  "test/fuzz/**/*.test.ts",
  "test/cluster/**/*.test.ts",
  "test/deploy/**/*.test.ts",
  // README and docs/ examples, run as written with bash, curl, tsx and the CLI.
  "test/**/readme*.test.ts",
  // examples/, each run as its README says: tsx, the CLI, MCP clients over stdio, redis-server and
  // nginx, buf generate with local protoc plugins and python3.
  "test/examples/**/*.test.ts",
  // The packed tarball installed in empty projects and run with plain node 20, 22 and 24.
  "test/package/**/*.test.ts",
  // Files that start a program of their own.
  "test/client/event-listener.test.ts", // tsx child
  "test/client/tls-client.test.ts", // openssl
  "test/client/typed-client-types.test.ts", // tsc
  "test/codegen/typed-client-codegen.test.ts", // tsc
  "test/config/server-settings.test.ts", // redis-server
  "test/logging/call-log.test.ts", // node child
  "test/mcp/inspector.test.ts", // MCP inspector CLI
  "test/mcp/stdio.test.ts", // toolwire mcp
  "test/registry/define-tool-types.test.ts", // tsc
  "test/security/api-keys.test.ts", // sha256sum
  "test/server/monitor-reflection.test.ts", // buf curl
  "test/server/monitor-shutdown.test.ts", // tsx child
  "test/server/monitor-sse.test.ts", // curl
  "test/server/origin-checks.test.ts", // curl
  "test/server/rate-limits.test.ts", // curl, redis-server
  "test/server/security-matrix.test.ts", // curl
  "test/server/tls.test.ts", // openssl
  "test/tools/execute-command.test.ts", // the programs it runs
  "test/tools/list-processes.test.ts", // node children to list
  // Real retries and failover across several servers.
  "test/client/client-manager.test.ts",
  "test/client/health-check.test.ts",
  "test/client/retry.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Servers under test are real processes and sockets; two workers match the machine's cores.
    maxWorkers: 2,
    // expect.poll waits for something that must happen; on a loaded machine it may take longer than
    // vitest's 1 s default, and a longer wait only delays a failure, never hides one.
    expect: { poll: { timeout: 10_000 } },
    // `vitest run` runs both; `--project unit` or `--project e2e` one of them.
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...e2e],
          // Worker threads that keep src/ loaded from one file to the next: importing it once per
          // worker rather than once per file halves the project's CPU time. So a unit test file
          // leaves nothing behind: servers closed, real timers restored, no process-wide change.
          pool: "threads",
          isolate: false,
        },
      },
      // The programs e2e tests start are the built ones (dist/), as users run them: built first.
      { extends: true, test: { name: "e2e", include: e2e, globalSetup: ["test/helpers/toolwire-bin.ts"] } },
    ],
  },
});
