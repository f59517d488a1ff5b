// The client against a two-node cluster on the local Redis, through a TCP
// proxy that plays the load balancer: events published through node A reach
// a client on node B in order; when B is killed or shut down, the client
// lands on A and resumes from the Redis history without losing or repeating
// anything; a resume from beyond the (trimmed) stream reports a gap.

import { afterAll, beforeAll, expect, test } from "vitest";
import { mintAccessToken, startCluster, type Cluster, type Hub } from "../../testing/hub.mjs";
import {
  eventually,
  ids,
  publishSeries,
  recordedClient,
  storedIds,
  strictlyIncreasing,
} from "./helpers.js";
import { startProxy, type Proxy } from "./proxy.js";

let cluster: Cluster;
let proxy: Proxy;
let a: Hub;
let b: Hub;

beforeAll(async () => {
  cluster = await startCluster({
    env: { HUB__WEBSOCKET__HISTORY_SIZE: "300", HUB__SERVER__SHUTDOWN_TIMEOUT: "1s" },
  });
  [a, b] = cluster.nodes as [Hub, Hub];
  proxy = await startProxy([b.port, a.port]);
});
afterAll(async () => {
  await proxy?.close();
  await cluster?.close();
});

async function nodeId(hub: Hub): Promise<string> {
  const res = await hub.request("GET", "/api/ws/status", { auth: "service" });
  return ((await res.json()) as { node_id: string }).node_id;
}

async function user() {
  const u = await a.register();
  return { id: u.id, token: mintAccessToken(u.id, 3600) };
}

test("kill -9 of the client's node mid-stream: it resumes on the other node, 500 events once, in order", async () => {
  if (!b.running) await b.restart();
  proxy.prefer([b.port, a.port]);
  const [idA, idB] = [await nodeId(a), await nodeId(b)];
  const u = await user();
  const rec = recordedClient({ baseUrl: proxy.url, token: u.token });
  const nodes: string[] = [];
  rec.client.on("connected", (w) => nodes.push(w.node_id));
  rec.client.connect();
  await rec.client.ready(10_000);
  expect(nodes).toEqual([idB]);

  let restarted: Promise<unknown> | null = null;
  await publishSeries(
    () => a,
    u.id,
    500,
    async (n) => {
      if (n === 200) {
        await b.kill9();
        // The balancer now sends new connections to A, so the client's
        // resume crosses nodes even if B is back before it reconnects. B
        // comes back later; the client must not wait for it.
        proxy.prefer([a.port, b.port]);
        restarted = b.restart();
      }
    },
  );
  const stored = await storedIds(a, u.id);
  expect(stored.length).toBe(500);
  await eventually("every event received", () => rec.events.length >= 500, 30_000);
  expect(ids(rec.events)).toEqual(stored);
  expect(strictlyIncreasing(ids(rec.events))).toBe(true);
  expect(nodes[0]).toBe(idB);
  expect(nodes[1]).toBe(idA);
  rec.client.disconnect();
  await restarted;
});

test("SIGTERM of the client's node: 1012, then soon connected to the other node, nothing lost", async () => {
  if (!b.running) await b.restart();
  proxy.prefer([b.port, a.port]);
  const idA = await nodeId(a);
  const u = await user();
  const rec = recordedClient({ baseUrl: proxy.url, token: u.token });
  const nodes: string[] = [];
  rec.client.on("connected", (w) => nodes.push(w.node_id));
  rec.client.connect();
  await rec.client.ready(10_000);

  let terminated: Promise<unknown> | null = null;
  const published = await publishSeries(
    () => a,
    u.id,
    100,
    (n) => {
      if (n === 40) terminated = b.sigterm();
    },
  );
  expect((await terminated) as unknown).toMatchObject({ code: 0 });
  await eventually("every event received", () => rec.events.length >= 100, 20_000);
  expect(ids(rec.events)).toEqual(published);
  expect(rec.disconnects.map((d) => d.code)).toContain(1012);
  expect(nodes.at(-1)).toBe(idA);
  rec.client.disconnect();
  await b.restart();
});

test("resuming from an id the Redis stream no longer holds reports a gap", async () => {
  const u = await user();
  const res = await a.request("POST", "/api/activities/bulk", {
    auth: "service",
    body: {
      user_id: u.id,
      activities: Array.from({ length: 320 }, (_, i) => ({
        type: "notification",
        title: `bulk ${i}`,
      })),
    },
  });
  expect(res.status).toBe(201);
  const stored = await storedIds(a, u.id);
  expect(stored.length).toBe(320);
  const rec = recordedClient({ baseUrl: b.url, token: u.token, lastEventId: stored[0] as string });
  const resumed: { complete: boolean; replayed: number }[] = [];
  rec.client.on("resumed", (r) => resumed.push(r));
  rec.client.connect();
  await eventually("the gap", () => rec.gaps.length === 1);
  expect(resumed[0]?.complete).toBe(false);
  await eventually("the replay", () => rec.events.length === 300);
  expect(ids(rec.events)).toEqual(stored.slice(-300));
  rec.client.disconnect();
});
