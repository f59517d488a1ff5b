// The browser tests: one Chromium and one real hub per file, run one file at
// a time (the machine's cores are shared, and each file drives a hub).
import { defineConfig } from "vitest/config";

const here = (path: string) => new URL(path, import.meta.url).pathname;

export default defineConfig({
  // The client from its sources, as the page bundles it: no client build needed.
  resolve: {
    alias: [
      { find: /^@aiclone\/hub-client\/react$/, replacement: here("../../client/src/react.tsx") },
      { find: /^@aiclone\/hub-client$/, replacement: here("../../client/src/index.ts") },
    ],
  },
  test: {
    root: new URL(".", import.meta.url).pathname,
    include: ["**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["verbose"],
  },
});
