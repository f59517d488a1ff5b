// HubApi against the real hub: typed calls, errors as HubError, and the
// committed OpenAPI types checked against the hub's live document.

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { freePort, mintAccessToken, startHub, type Hub } from "../../testing/hub.mjs";
import { generateTypes } from "../scripts/openapi.mjs";
import { ACTIVITY_TYPES, EVENT_TYPES, HubApi, HubError } from "../src/index.js";

let hub: Hub;
let userId: string;
let api: HubApi;
beforeAll(async () => {
  hub = await startHub();
  userId = (await hub.register()).id;
  api = new HubApi({ baseUrl: hub.url, getToken: () => mintAccessToken(userId, 600) });
});
afterAll(async () => {
  await hub?.close();
});

test("the committed OpenAPI types match the hub's document (npm run gen:api regenerates them)", async () => {
  const res = await fetch(`${hub.url}/api/openapi.json`);
  expect(res.status).toBe(200);
  const generated = await generateTypes(await res.json());
  const committed = readFileSync(new URL("../src/generated/openapi.ts", import.meta.url), "utf8");
  if (committed !== generated) {
    const a = committed.split("\n");
    const b = generated.split("\n");
    const line = a.findIndex((l, i) => l !== b[i]);
    expect.fail(
      `src/generated/openapi.ts is stale (first difference at line ${line + 1}: ` +
        `${JSON.stringify(a[line])} vs ${JSON.stringify(b[line])}); run \`npm run gen:api\``,
    );
  }
});

test("the client's type lists are the document's enums, in order", async () => {
  const doc = (await (await fetch(`${hub.url}/api/openapi.json`)).json()) as {
    components: { schemas: Record<string, { enum?: string[] }> };
  };
  expect([...ACTIVITY_TYPES]).toEqual(doc.components.schemas.ActivityType?.enum);
  expect([...EVENT_TYPES]).toEqual(doc.components.schemas.EventType?.enum);
});

test("typed calls carry the bearer token from getToken", async () => {
  const me = await api.me();
  expect(me.id).toBe(userId);
  const created = await api.createActivity({ type: "meeting_booked", title: "Demo with ACME" });
  expect(created.user_id).toBe(userId);
  const page = await api.listActivities({ limit: 10 });
  expect(page.items.map((a) => a.id)).toContain(created.id);
  const one = await api.getActivity(created.id);
  expect(one.title).toBe("Demo with ACME");
  const task = await api.createTask({ kind: "research", title: "Find prospects" });
  expect(task.status).toBe("queued");
  const running = await api.updateTask(task.id, { status: "running", progress: 10 });
  expect(running.progress).toBe(10);
  expect((await api.getTask(task.id)).status).toBe("running");
  expect((await api.listTasks({ status: "running" })).items.map((t) => t.id)).toContain(task.id);
  const status = await api.wsStatus();
  expect(typeof status.node_id).toBe("string");
});

test("the same Idempotency-Key returns the same activity", async () => {
  const first = await api.createActivity({ type: "notification", title: "once" }, "key-1");
  const again = await api.createActivity({ type: "notification", title: "once" }, "key-1");
  expect(again.id).toBe(first.id);
});

test("failures are HubErrors with the hub's status, code, message and fields", async () => {
  const invalid = await api
    .createActivity({ type: "notification", title: "", bogus: 1 } as never)
    .catch((e: unknown) => e);
  expect(invalid).toBeInstanceOf(HubError);
  expect((invalid as HubError).status).toBe(422);
  expect((invalid as HubError).code).toMatch(/^[a-z_]+$/);
  expect((invalid as HubError).fields.length).toBeGreaterThan(0);
  expect((invalid as HubError).requestId).toBeTruthy();

  await expect(api.getTask("tsk_does_not_exist")).rejects.toMatchObject({ status: 404 });

  const anonymous = new HubApi({ baseUrl: hub.url });
  await expect(anonymous.me()).rejects.toMatchObject({ status: 401 });

  const expired = new HubApi({ baseUrl: hub.url, token: mintAccessToken(userId, -5) });
  await expect(expired.me()).rejects.toMatchObject({ status: 401 });
});

test("a getToken that throws fails the call as 401 without sending it", async () => {
  const api2 = new HubApi({
    baseUrl: hub.url,
    getToken: () => {
      throw new Error("logged out");
    },
  });
  await expect(api2.me()).rejects.toMatchObject({ status: 401, code: "unauthorized" });
});

test("a base URL where nothing listens is a network HubError (status 0)", async () => {
  const port = await freePort();
  const nowhere = new HubApi({ baseUrl: `http://127.0.0.1:${port}`, token: "t" });
  const err = await nowhere.me().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HubError);
  expect(err).toMatchObject({ status: 0, code: "network_error", transient: true });
});
