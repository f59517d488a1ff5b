// Where the browser opens the page: the hub itself when its binary embeds the
// dashboard build, else Vite's preview server over web/dist, in front of the
// hub (same CSP header, /api proxied, WebSockets included).

import { fileURLToPath } from "node:url";
import { preview, type PreviewServer } from "vite";
import type { Hub } from "../../testing/hub.mjs";

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export interface PageServer {
  url: string;
  /** True when the hub binary serves the page itself. */
  embedded: boolean;
  close(): Promise<void>;
}

export async function servesPage(hub: Hub): Promise<boolean> {
  const res = await fetch(`${hub.url}/`);
  const type = res.headers.get("content-type") ?? "";
  await res.body?.cancel();
  return res.ok && type.startsWith("text/html");
}

export async function pageServer(hub: Hub): Promise<PageServer> {
  if (await servesPage(hub)) {
    return { url: hub.url, embedded: true, close: async () => {} };
  }
  const server: PreviewServer = await preview({
    configFile: fileURLToPath(new URL("../vite.config.ts", import.meta.url)),
    logLevel: "silent",
    preview: {
      host: "127.0.0.1",
      port: 0,
      strictPort: false,
      headers: { "Content-Security-Policy": CSP },
      proxy: {
        "/api": {
          target: hub.url,
          ws: true,
          // The hub accepts WebSockets from its own origin; through the
          // proxy the browser's origin is the preview server's.
          configure: (proxy) => {
            proxy.on("proxyReqWs", (proxyReq) => proxyReq.setHeader("origin", hub.url));
          },
        },
      },
    },
  });
  const address = server.httpServer.address();
  if (address === null || typeof address === "string")
    throw new Error("preview server has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    embedded: false,
    close: () => server.close(),
  };
}
