import { afterAll, beforeAll, expect, test } from "vitest";
import { startHub, mintAccessToken, type Hub } from "../../testing/hub.mjs";
import { eventually, recordedClient } from "./helpers.js";

let hub: Hub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => {
  await hub?.close();
});

test("connects and receives events", async () => {
  const user = await hub.register();
  const rec = recordedClient({ baseUrl: hub.url, token: mintAccessToken(user.id, 600) });
  rec.client.connect();
  await rec.client.ready(10_000);
  const a = await hub.publish(user.id, { title: "one" });
  await eventually("the event", () => rec.events.length === 1);
  expect(rec.events[0]?.id).toBe(a.id);
  rec.client.disconnect();
});
