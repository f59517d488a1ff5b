// The client and sessions against a hub with tight limits: 3-second access
// tokens, one session per user, five events of history.

import { afterAll, beforeAll, expect, test } from "vitest";
import { mintAccessToken, PASSWORD, startHub, uniqueEmail, type Hub } from "../../testing/hub.mjs";
import { createSession, HubError, memoryStorage, register, restoreSession } from "../src/index.js";
import { eventually, ids, recordedClient } from "./helpers.js";

let hub: Hub;
beforeAll(async () => {
  hub = await startHub({
    env: {
      HUB__AUTH__ACCESS_TOKEN_TTL: "3s",
      HUB__WEBSOCKET__MAX_SESSIONS_PER_USER: "1",
      HUB__WEBSOCKET__HISTORY_SIZE: "5",
    },
  });
});
afterAll(async () => {
  await hub?.close();
});

/** A fetch that counts the refresh requests it sends. */
function countingFetch() {
  const counter = { refreshes: 0 };
  const fetchFn: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.endsWith("/api/auth/refresh")) counter.refreshes += 1;
    return fetch(input, init);
  };
  return { counter, fetchFn };
}

let account: Promise<{ email: string; user: { id: string } }> | null = null;
/** One account for the session tests (each logs in on its own). */
function newAccount() {
  account ??= (async () => {
    const email = uniqueEmail("limits");
    const user = await register({ baseUrl: hub.url, email, password: PASSWORD });
    return { email, user };
  })();
  return account;
}

let sharedUser: Promise<{ id: string }> | null = null;
/** One user for the resume tests, which only look at what they publish. */
function shared() {
  sharedUser ??= hub.register();
  return sharedUser;
}

test("a session stays open across 3-second tokens, never closed with 4001", async () => {
  const { email, user } = await newAccount();
  const { counter, fetchFn } = countingFetch();
  const session = await createSession({
    baseUrl: hub.url,
    email,
    password: PASSWORD,
    fetch: fetchFn,
  });
  const rec = recordedClient({ baseUrl: hub.url, getToken: session.getToken });
  rec.client.connect();
  await rec.client.ready(10_000);
  const connectedAt = Date.now();
  // The test is that time passes: more than two token lifetimes.
  await eventually("two token lifetimes", () => Date.now() - connectedAt > 7_000, 15_000, 100);
  expect(counter.refreshes).toBeGreaterThanOrEqual(2);
  const a = await hub.publish(user.id, { title: "still here" });
  await eventually("the event on the same session", () => rec.events.some((e) => e.id === a.id));
  expect(rec.disconnects).toEqual([]);
  expect(rec.connects).toBe(1);
  expect(rec.errors).toEqual([]);
  rec.client.disconnect();
  await session.logout();
});

test("4029 (too many sessions) waits the maximum delay between attempts", async () => {
  const u = await hub.register();
  const first = recordedClient({ baseUrl: hub.url, token: mintAccessToken(u.id, 600) });
  first.client.connect();
  await first.client.ready(10_000);

  const max = 800;
  const second = recordedClient({
    baseUrl: hub.url,
    token: mintAccessToken(u.id, 600),
    minReconnectDelay: 50,
    maxReconnectDelay: max,
  });
  const attempts: number[] = [];
  second.client.on("disconnected", (d) => {
    if (d.code === 4029) attempts.push(Date.now());
  });
  second.client.connect();
  await eventually("four refusals", () => attempts.length >= 4, 15_000);
  for (let i = 1; i < attempts.length; i += 1) {
    expect((attempts[i] as number) - (attempts[i - 1] as number)).toBeGreaterThanOrEqual(max);
  }
  expect(second.client.state).toBe("connecting");

  // Once the first session leaves, the second gets in at its next attempt.
  first.client.disconnect();
  await second.client.ready(10_000);
  second.client.disconnect();
});

test("resuming from an id older than the history emits gap, then the newest events in order", async () => {
  const u = await shared();
  const published: string[] = [];
  for (let i = 0; i < 12; i += 1) published.push((await hub.publish(u.id, { title: `e${i}` })).id);
  const from = published[0] as string;
  const rec = recordedClient({
    baseUrl: hub.url,
    token: mintAccessToken(u.id, 600),
    lastEventId: from,
  });
  const resumed: { from: string; replayed: number; complete: boolean }[] = [];
  rec.client.on("resumed", (r) => resumed.push(r));
  rec.client.connect();
  await eventually("the gap", () => rec.gaps.length === 1);
  expect(rec.gaps[0]).toEqual({ from });
  expect(resumed[0]).toMatchObject({ from, complete: false, replayed: 5 });
  expect(ids(rec.events)).toEqual(published.slice(-5));
  expect(rec.client.lastEventId).toBe(published.at(-1));
  rec.client.disconnect();

  // Resuming from a recent id is complete: no gap.
  const again = recordedClient({
    baseUrl: hub.url,
    token: mintAccessToken(u.id, 600),
    lastEventId: published.at(-3) as string,
  });
  const resumedAgain: { complete: boolean; replayed: number }[] = [];
  again.client.on("resumed", (r) => resumedAgain.push(r));
  again.client.connect();
  await eventually("the complete resume", () => resumedAgain.length === 1);
  expect(resumedAgain[0]).toMatchObject({ complete: true, replayed: 2 });
  expect(again.gaps).toEqual([]);
  expect(ids(again.events)).toEqual(published.slice(-2));
  again.client.disconnect();
});

test("the resume position is persisted per user and used after a reload", async () => {
  const u = await shared();
  const storage = memoryStorage();
  const a = recordedClient({ baseUrl: hub.url, token: mintAccessToken(u.id, 600), storage });
  a.client.connect();
  await a.client.ready(10_000);
  const first = await hub.publish(u.id, { title: "seen" });
  await eventually("the first event", () => a.events.length === 1);
  a.client.disconnect();
  expect(storage.get(`aiclone-hub:last_event_id:${u.id}`)).toBe(first.id);

  const missed = await hub.publish(u.id, { title: "missed while away" });
  // A new client (a reloaded page) with the same storage resumes after `first`.
  const b = recordedClient({ baseUrl: hub.url, token: mintAccessToken(u.id, 600), storage });
  b.client.connect();
  await eventually("the missed event", () => b.events.length === 1);
  expect(ids(b.events)).toEqual([missed.id]);
  b.client.disconnect();
});

test("many concurrent getToken calls share one refresh request", async () => {
  const { email } = await newAccount();
  const { counter, fetchFn } = countingFetch();
  const session = await createSession({
    baseUrl: hub.url,
    email,
    password: PASSWORD,
    fetch: fetchFn,
  });
  const firstToken = await session.getToken();
  expect(counter.refreshes).toBe(0);
  // Wait until the token is inside its refresh margin (the last quarter).
  await eventually(
    "the token to need a refresh",
    () => (session.expiresAt as number) - 750 <= Date.now(),
    10_000,
  );
  const tokens = await Promise.all(Array.from({ length: 25 }, () => session.getToken()));
  expect(counter.refreshes).toBe(1);
  expect(new Set(tokens).size).toBe(1);
  expect(tokens[0]).not.toBe(firstToken);
  // Forced refreshes asked for at the same time also share one request.
  const forced = await Promise.all(
    Array.from({ length: 10 }, () => session.getToken({ forceRefresh: true })),
  );
  expect(counter.refreshes).toBe(2);
  expect(new Set(forced).size).toBe(1);
  // The rotated pair still works (no reuse was detected).
  const me = await hub.request("GET", "/api/auth/me", { auth: forced[0] });
  expect(me.status).toBe(200);
  await session.logout();
});

test("a stored session survives a reload; logout revokes it and the client becomes unauthorized", async () => {
  const { email } = await newAccount();
  const storage = memoryStorage();
  const session = await createSession({ baseUrl: hub.url, email, password: PASSWORD, storage });
  const restored = await restoreSession({ baseUrl: hub.url, storage });
  expect(restored).not.toBeNull();
  const token = await restored!.getToken({ forceRefresh: true });
  expect((await hub.request("GET", "/api/auth/me", { auth: token })).status).toBe(200);

  const rec = recordedClient({ baseUrl: hub.url, getToken: restored!.getToken });
  rec.client.connect();
  await rec.client.ready(10_000);
  await restored!.logout();
  expect(storage.get("aiclone-hub:session")).toBeNull();
  // The old page's copy of the pair is revoked on the hub too.
  await expect(session.getToken({ forceRefresh: true })).rejects.toMatchObject({ status: 401 });
  expect(await restoreSession({ baseUrl: hub.url, storage })).toBeNull();
  // The socket's 3-second token runs out; the next token cannot be had.
  await eventually("the unauthorized state", () => rec.client.state === "unauthorized", 15_000);
  expect(rec.errors.at(-1)).toBeInstanceOf(HubError);
  expect(rec.disconnects.at(-1)?.willReconnect).toBe(false);
});

test("wrong credentials are a 401 HubError", async () => {
  await expect(
    createSession({ baseUrl: hub.url, email: "nobody@example.test", password: "wrong password" }),
  ).rejects.toMatchObject({ status: 401, code: "invalid_credentials" });
});
