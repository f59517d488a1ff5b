// Builds the dashboard into ../dist, which the hub binary embeds and serves at
// `/`. The output must be byte-for-byte reproducible: CI rebuilds it and fails
// when it differs from the committed copy, so nothing time- or path-dependent
// may leak into it (no source maps, stable hashed names).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  // The client package is bundled from its TypeScript source, so the
  // dashboard needs no separate client build.
  resolve: {
    alias: [
      { find: /^@aiclone\/hub-client\/react$/, replacement: here("../client/src/react.tsx") },
      { find: /^@aiclone\/hub-client$/, replacement: here("../client/src/index.ts") },
    ],
  },
  oxc: {
    jsx: { runtime: "automatic" },
  },
  build: {
    outDir: here("../dist"),
    emptyOutDir: true,
    sourcemap: false,
    assetsDir: "assets",
    target: "es2022",
    reportCompressedSize: false,
    // Two pages: the dashboard (`/`) and the embeddable webhook portal
    // (`/portal`), sharing their chunks.
    rolldownOptions: {
      input: { index: here("index.html"), portal: here("portal.html") },
    },
  },
  server: {
    proxy: {
      "/api": { target: process.env.HUB_URL ?? "http://127.0.0.1:8080", ws: true },
    },
  },
  preview: {
    proxy: {
      "/api": { target: process.env.HUB_URL ?? "http://127.0.0.1:8080", ws: true },
    },
  },
});
