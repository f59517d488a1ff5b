import { defineConfig } from "vitest/config";

// The integration suites start real hub processes (web/testing/hub.mjs);
// files run one at a time so that timing checks (heartbeat, backoff) do not
// compete with another file's hubs for the CPU.
export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
