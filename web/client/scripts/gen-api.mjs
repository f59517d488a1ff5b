// `npm run gen:api`: starts the hub binary (the test harness's), fetches its
// OpenAPI document and rewrites src/generated/openapi.ts from it.

/* global fetch, console, URL */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startHub } from "../../testing/hub.mjs";
import { generateTypes } from "./openapi.mjs";

const target = fileURLToPath(new URL("../src/generated/openapi.ts", import.meta.url));
const hub = await startHub();
try {
  const res = await fetch(`${hub.url}/api/openapi.json`);
  if (!res.ok) throw new Error(`GET /api/openapi.json: HTTP ${res.status}`);
  writeFileSync(target, await generateTypes(await res.json()));
  console.log(`wrote ${target}`);
} finally {
  await hub.close();
}
