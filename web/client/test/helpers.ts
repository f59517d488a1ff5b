// Shared pieces of the client's tests: a recorder for a client's events and
// a waiting helper with a deadline.

import WebSocket from "ws";
import { HubClient, type HubClientOptions } from "../src/index.js";
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

/** Asserts ids are strictly increasing with no repeats, and returns them. */
export function ids(events: Activity[]): string[] {
  return events.map((e) => e.id);
}
