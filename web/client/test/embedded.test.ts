// The client against one real hub (embedded mode, SQLite): kill -9 and
// SIGTERM mid-stream, a frozen hub (SIGSTOP), tokens the upgrade refuses.

import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { mintAccessToken, startHub, type Hub } from "../../testing/hub.mjs";
import {
  eventually,
  ids,
  publishSeries,
  recordedClient,
  storedIds,
  strictlyIncreasing,
} from "./helpers.js";

let hub: Hub;
beforeAll(async () => {
  // A short drain keeps the SIGTERM test quick; sessions get 1012 at its start.
  hub = await startHub({ env: { HUB__SERVER__SHUTDOWN_TIMEOUT: "1s" } });
});
afterAll(async () => {
  await hub?.close();
});

/** A newly registered user and a long-lived token for it. */
async function user() {
  const u = await hub.register();
  return { id: u.id, token: mintAccessToken(u.id, 3600) };
}

let sharedUser: Promise<{ id: string; token: string }> | null = null;
/**
 * One user for the tests that only look at what they publish themselves
 * (each client starts without a resume position): registering costs a
 * password hash, which a debug build makes slow.
 */
function shared() {
  sharedUser ??= user();
  return sharedUser;
}

test("kill -9 and restart mid-stream: 500 events, each received once, in order", async () => {
  const u = await user();
  const rec = recordedClient({ baseUrl: hub.url, token: u.token });
  rec.client.connect();
  await rec.client.ready(10_000);
  let restarted: Promise<unknown> | null = null;
  const published = await publishSeries(
    () => hub,
    u.id,
    500,
    async (n) => {
      if (n === 200) {
        // Kill while the client is still receiving the stream, then bring
        // the hub back on the same port and data dir; the publisher keeps
        // going (retrying) while it is down.
        await hub.kill9();
        restarted = hub.restart();
      }
    },
  );
  await restarted;
  const stored = await storedIds(hub, u.id);
  // Every acknowledged event is stored (an in-flight one may be too).
  expect(published.every((id) => stored.includes(id))).toBe(true);
  expect(stored.length).toBeGreaterThanOrEqual(500);
  await eventually("every stored event received", () => rec.events.length >= stored.length, 30_000);
  expect(ids(rec.events)).toEqual(stored);
  expect(strictlyIncreasing(ids(rec.events))).toBe(true);
  expect(rec.connects).toBeGreaterThanOrEqual(2);
  expect(rec.client.lastEventId).toBe(stored.at(-1));
  rec.client.disconnect();
});

test("SIGTERM closes with 1012, the client comes back soon and resumes", async () => {
  const u = await shared();
  const rec = recordedClient({ baseUrl: hub.url, token: u.token });
  const delays: { delay: number; at: number }[] = [];
  rec.client.on("reconnecting", (r) => delays.push({ delay: r.delay, at: Date.now() }));
  rec.client.connect();
  await rec.client.ready(10_000);
  const before = await hub.publish(u.id, { title: "before" });
  await eventually("the first event", () => rec.events.length === 1);

  const exit = await hub.sigterm();
  expect(exit.code).toBe(0);
  await eventually("the 1012 close", () => rec.disconnects.some((d) => d.code === 1012));
  const close = rec.disconnects.find((d) => d.code === 1012);
  expect(close?.willReconnect).toBe(true);
  // The reconnect after a restart notice is "soon": under the base delay.
  expect(delays[0]?.delay).toBeLessThan(50);

  await hub.restart();
  const after = await hub.publish(u.id, { title: "after" });
  await eventually("the event after the restart", () => rec.events.length === 2, 20_000);
  expect(ids(rec.events)).toEqual([before.id, after.id]);
  expect(rec.client.state).toBe("connected");
  rec.client.disconnect();
});

test("a frozen hub (SIGSTOP) is detected by the heartbeat within pingInterval + pongTimeout", async () => {
  const u = await shared();
  const pingInterval = 400;
  const pongTimeout = 400;
  const rec = recordedClient({
    baseUrl: hub.url,
    token: u.token,
    pingInterval,
    pongTimeout,
    connectTimeout: 1_000,
  });
  rec.client.connect();
  await rec.client.ready(10_000);
  // Let a few pings pass to show a healthy hub is not mistaken for a dead one.
  await new Promise((r) => setTimeout(r, pingInterval * 3));
  expect(rec.disconnects).toEqual([]);

  hub.stop();
  const stoppedAt = Date.now();
  try {
    await eventually(
      "the heartbeat to give up",
      () => rec.disconnects.some((d) => d.reason === "heartbeat timeout"),
      10_000,
      5,
    );
    const detected = rec.disconnects.find((d) => d.reason === "heartbeat timeout");
    // Slack for timer lateness on a busy machine; far below one more ping period.
    expect((detected?.at ?? Infinity) - stoppedAt).toBeLessThanOrEqual(
      pingInterval + pongTimeout + 250,
    );
    expect(detected?.willReconnect).toBe(true);
    expect(rec.client.state).toBe("connecting");
  } finally {
    hub.cont();
  }
  await eventually("the reconnect after SIGCONT", () => rec.client.state === "connected", 15_000);
  const a = await hub.publish(u.id, { title: "after the freeze" });
  await eventually("the event after the freeze", () => rec.events.some((e) => e.id === a.id));
  rec.client.disconnect();
});

test("a token the upgrade refuses (401) backs off to the maximum delay", async () => {
  const u = await shared();
  const expired = mintAccessToken(u.id, -60);
  const rec = recordedClient({
    baseUrl: hub.url,
    token: expired,
    minReconnectDelay: 50,
    maxReconnectDelay: 700,
  });
  const delays: number[] = [];
  rec.client.on("reconnecting", (r) => delays.push(r.delay));
  rec.client.connect();
  await eventually("two reconnect plans", () => delays.length >= 2, 10_000);
  rec.client.disconnect();
  // `ws` reports the status of a refused upgrade, so the first failure
  // already waits the maximum.
  for (const d of delays) expect(d).toBeGreaterThanOrEqual(700);
  expect(rec.errors.some((e) => e.status === 401 && e.code === "unauthenticated")).toBe(true);
});

test("without the status (as in browsers), the token probe tells a 401 from the network", async () => {
  const u = await shared();
  // A WebSocket that, like a browser's, does not say why an upgrade failed.
  const BrowserLike = function (this: unknown, url: string) {
    const socket = new WebSocket(url);
    return new Proxy(socket, {
      set(target, prop, value) {
        if (prop === "onerror" && typeof value === "function") {
          target.onerror = () => (value as (e: object) => void)({});
        } else {
          (target as unknown as Record<string | symbol, unknown>)[prop] = value;
        }
        return true;
      },
      get(target, prop) {
        const v = (target as unknown as Record<string | symbol, unknown>)[prop];
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  } as unknown as new (url: string) => object;
  const rec = recordedClient({
    baseUrl: hub.url,
    token: mintAccessToken(u.id, -60),
    WebSocket: BrowserLike,
    minReconnectDelay: 50,
    maxReconnectDelay: 700,
  } as never);
  const delays: number[] = [];
  rec.client.on("reconnecting", (r) => delays.push(r.delay));
  rec.client.connect();
  await eventually("three reconnect plans", () => delays.length >= 3, 10_000);
  rec.client.disconnect();
  // The first failure could be a network blip (plain backoff); from the
  // second on, the probe saw the 401 and the client waits the maximum.
  expect(delays[0]).toBeLessThan(50);
  for (const d of delays.slice(1)) expect(d).toBeGreaterThanOrEqual(700);
  expect(rec.errors.some((e) => e.status === 401)).toBe(true);
});

test("a 4001 close (token expired, no refresh in time) asks for a new token and reconnects", async () => {
  const u = await shared();
  // Until the hub has closed the session, getToken has nothing newer to
  // give (as if the login service were unreachable), so the hub closes it
  // at the token's exp.
  const old = mintAccessToken(u.id, 3);
  let closed = false;
  const asked: { forceRefresh: boolean; at: number }[] = [];
  const rec = recordedClient({
    baseUrl: hub.url,
    getToken: ({ forceRefresh }) => {
      asked.push({ forceRefresh, at: Date.now() });
      return forceRefresh && closed ? mintAccessToken(u.id, 3600) : old;
    },
  });
  rec.client.on("disconnected", (d) => {
    if (d.code === 4001) closed = true;
  });
  rec.client.connect();
  await rec.client.ready(10_000);
  await eventually("the 4001 close", () => rec.disconnects.some((d) => d.code === 4001), 10_000);
  const closedAt = rec.disconnects.find((d) => d.code === 4001)?.at as number;
  await eventually("the reconnect", () => rec.connects === 2, 10_000);
  const after = asked.filter((a) => a.at >= closedAt);
  expect(after[0]?.forceRefresh).toBe(true);
  expect(rec.errors.filter((e) => e.status === 401)).toEqual([]);
  const a = await hub.publish(u.id, { title: "after 4001" });
  await eventually("the event", () => rec.events.some((e) => e.id === a.id));
  rec.client.disconnect();
});

test("task updates, broadcasts and a changed subscription, from the real hub", async () => {
  const u = await shared();
  const rec = recordedClient({ baseUrl: hub.url, token: u.token });
  const tasks: { id: string; progress: number }[] = [];
  const broadcasts: unknown[] = [];
  const subscribed: unknown[] = [];
  rec.client.on("task", (t) => tasks.push(t));
  rec.client.on("broadcast", (b) => broadcasts.push(b));
  rec.client.on("subscribed", (s) => subscribed.push(s.events));
  rec.client.connect();
  await rec.client.ready(10_000);

  const task = await hub.createTask(u.id, { title: "Live progress" });
  await hub.updateTask(task.id, { status: "running", progress: 30 });
  await eventually("the task update", () => tasks.some((t) => t.progress === 30));
  expect(tasks.every((t) => t.id === task.id)).toBe(true);

  await hub.broadcast({ title: "Maintenance at noon" });
  await eventually("the broadcast", () => broadcasts.length === 1);

  rec.client.subscribe(["meeting_booked"]);
  await eventually("the subscription", () => subscribed.length === 1);
  expect(subscribed[0]).toEqual(["meeting_booked"]);
  await hub.publish(u.id, { type: "notification", title: "filtered out" });
  const wanted = await hub.publish(u.id, { type: "meeting_booked", title: "kept" });
  await eventually("the wanted event", () => rec.events.some((e) => e.id === wanted.id));
  expect(rec.events.map((e) => e.type)).toEqual(["meeting_booked"]);
  rec.client.disconnect();
});
