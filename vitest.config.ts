import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Servers under test are real processes and sockets; two workers match the machine's cores.
    maxWorkers: 2,
  },
});
