// Turns the hub's OpenAPI document into the TypeScript types the client
// compiles against (src/generated/openapi.ts). Shared by `npm run gen:api`
// and by the test that fails when the committed file no longer matches.

import openapiTS, { astToString } from "openapi-typescript";

export const HEADER =
  "// Generated from the hub's /api/openapi.json by `npm run gen:api`\n" +
  "// (openapi-typescript). Do not edit by hand: regenerate.\n\n";

/** The file's text for an OpenAPI document (a parsed JSON object). */
export async function generateTypes(document) {
  const ast = await openapiTS(document, { alphabetize: true });
  return HEADER + astToString(ast);
}
