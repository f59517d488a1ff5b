// Shared pieces of the client's tests: a recorder for a client's events and
// a waiting helper with a deadline.

import WebSocket from "ws";
import type { Hub } from "../../testing/hub.mjs";
import { HubClient, compareIds, type HubClientOptions } from "../src/index.js";
import type { Activity } from "../src/types.js";
import type { DisconnectedEvent, HubState } from "../src/client.js";
import type { HubError } from "../src/errors.js";

export { eventually } from "../../testing/hub.mjs";

/** Small timings, so the suite reconnects in milliseconds, not seconds. */
export const FAST = {
  minReconnectDelay: 50,
  maxReconnectDelay: 1_000,
  stableAfter: 2_000,
  pingInterval: 1_000,
  pongTimeout: 1_000,
  connectTimeout: 5_000,
} satisfies Partial<HubClientOptions>;

export interface Recorder {
  client: HubClient;
  events: Activity[];
  states: HubState[];
  disconnects: (DisconnectedEvent & { at: number })[];
  errors: HubError[];
  gaps: { from: string }[];
  connects: number;
}

/** A HubClient on the `ws` package with every event recorded. */
export function recordedClient(options: Omit<HubClientOptions, "WebSocket">): Recorder {
  const client = new HubClient({ ...FAST, WebSocket, ...options });
  const rec: Recorder = {
    client,
    events: [],
    states: [],
    disconnects: [],
    errors: [],
    gaps: [],
    connects: 0,
  };
  client.on("event", (a) => rec.events.push(a));
  client.on("state", ({ to }) => rec.states.push(to));
  client.on("disconnected", (d) => rec.disconnects.push({ ...d, at: Date.now() }));
  client.on("error", (e) => rec.errors.push(e));
  client.on("gap", (g) => rec.gaps.push(g));
  client.on("connected", () => {
    rec.connects += 1;
  });
  return rec;
}

/** The ids of a list of activities. */
export function ids(events: Activity[]): string[] {
  return events.map((e) => e.id);
}

/**
 * Publishes `count` activities for `userId` through `publishVia()` (the hub
 * to use right now), `concurrency` requests at a time, each with its own
 * Idempotency-Key so that a request cut off by a kill is retried without a
 * second copy. Requests that find no hub are retried until `deadlineMs`.
 * `onPublished(n)` runs after the n-th acknowledgement (1-based), and the
 * publishers wait for it. Resolves with the acknowledged ids, in id order.
 */
export async function publishSeries(
  publishVia: () => Hub,
  userId: string,
  count: number,
  onPublished?: (acknowledged: number) => void | Promise<void>,
  { concurrency = 4, deadlineMs = 60_000 } = {},
): Promise<string[]> {
  const end = Date.now() + deadlineMs;
  const tag = Math.random().toString(36).slice(2);
  const out: string[] = [];
  let next = 0;
  let hook: Promise<void> = Promise.resolve();
  const publishOne = async (i: number) => {
    for (;;) {
      await hook;
      const hub = publishVia();
      try {
        const res = await hub.request("POST", "/api/activities", {
          auth: "service",
          headers: { "idempotency-key": `${tag}-${i}` },
          body: { type: "notification", title: `event ${i}`, user_id: userId },
        });
        if (res.status === 201 || res.status === 200) {
          return ((await res.json()) as { id: string }).id;
        }
        await res.body?.cancel();
      } catch {
        // The hub is down (killed, restarting): try again.
      }
      if (Date.now() > end) throw new Error(`event ${i} could not be published`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const worker = async () => {
    while (next < count) {
      const i = next;
      next += 1;
      out.push(await publishOne(i));
      if (onPublished) {
        const n = out.length;
        hook = hook.then(() => onPublished(n));
        await hook;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out.sort(compareIds);
}

/** Every activity id the hub stores for the user, oldest first. */
export async function storedIds(hub: Hub, userId: string): Promise<string[]> {
  const all: string[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ user_id: userId, limit: "200" });
    if (cursor) q.set("cursor", cursor);
    const res = await hub.request("GET", `/api/activities?${q}`, { auth: "service" });
    if (!res.ok) throw new Error(`list activities: ${res.status}`);
    const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null };
    all.push(...page.items.map((a) => a.id));
    cursor = page.next_cursor;
  } while (cursor);
  return all.reverse();
}

/** Asserts a list of ids is strictly increasing (so: in order, no repeats). */
export function strictlyIncreasing(list: string[]): boolean {
  return list.every((id, i) => i === 0 || compareIds(list[i - 1] as string, id) < 0);
}
