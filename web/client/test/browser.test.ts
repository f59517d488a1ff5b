// @vitest-environment jsdom
// Browser signals: `online` and a page becoming visible retry at once;
// while the browser is offline the client waits for it instead of polling.

import { afterEach, expect, test } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { freePort } from "../../testing/hub.mjs";
import { eventually, recordedClient } from "./helpers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  setOnline(true);
});

function setOnline(value: boolean) {
  Object.defineProperty(window.navigator, "onLine", { value, configurable: true });
}

/** A server that accepts and closes every connection (1011), counting them. */
async function refusingServer() {
  const port = await freePort();
  const server = new WebSocketServer({ host: "127.0.0.1", port });
  await new Promise<void>((r) => server.once("listening", () => r()));
  const seen = { connections: 0 };
  server.on("connection", (socket: WebSocket) => {
    seen.connections += 1;
    socket.close(1011, "not today");
  });
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${port}`, seen };
}

test("`online` and visibility cut a long backoff short", async () => {
  const { url, seen } = await refusingServer();
  const rec = recordedClient({
    baseUrl: url,
    token: "opaque",
    // Long waits: without the browser's signals nothing would happen for seconds.
    minReconnectDelay: 30_000,
    maxReconnectDelay: 60_000,
    random: () => 0.5,
  });
  cleanups.push(() => rec.client.disconnect());
  rec.client.connect();
  await eventually("the first refusal", () => rec.client.nextReconnectAt !== null);
  expect(seen.connections).toBe(1);

  window.dispatchEvent(new Event("online"));
  await eventually("a retry on `online`", () => seen.connections === 2);

  await eventually("the next wait", () => rec.client.nextReconnectAt !== null);
  Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
  await eventually("a retry on visibility", () => seen.connections === 3);
});

test("offline: no retries until the browser is back online", async () => {
  const { url, seen } = await refusingServer();
  const rec = recordedClient({ baseUrl: url, token: "opaque", minReconnectDelay: 20 });
  const plans: (number | null)[] = [];
  rec.client.on("reconnecting", (r) => plans.push(r.at));
  cleanups.push(() => rec.client.disconnect());
  setOnline(false);
  rec.client.connect();
  await eventually("the first refusal", () => plans.length === 1);
  expect(plans[0]).toBeNull();
  // Many base delays pass; an offline client does not spin.
  await new Promise((r) => setTimeout(r, 300));
  expect(seen.connections).toBe(1);
  setOnline(true);
  window.dispatchEvent(new Event("online"));
  await eventually("a retry once online", () => seen.connections === 2);
});
