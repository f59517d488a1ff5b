// @vitest-environment jsdom
// The React hooks against the real hub, through React Testing Library.

import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import { createElement, type ReactNode } from "react";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { mintAccessToken, startHub, type Hub } from "../../testing/hub.mjs";
import { HubApi, HubClient, compareIds } from "../src/index.js";
import {
  HubProvider,
  useActivityFeed,
  useHub,
  useHubState,
  useTask,
  useTasks,
} from "../src/react.js";
import { FAST } from "./helpers.js";

let hub: Hub;
let userId: string;
let token: string;
beforeAll(async () => {
  hub = await startHub({ env: { HUB__WEBSOCKET__HISTORY_SIZE: "5" } });
  userId = (await hub.register()).id;
  token = mintAccessToken(userId, 3600);
});
afterEach(() => cleanup());
afterAll(async () => {
  await hub?.close();
});

/** A fresh client and api (counting its list requests) in a provider. */
function setup(options: { lastEventId?: string } = {}) {
  const calls = { listActivities: 0 };
  const api = new HubApi({
    baseUrl: hub.url,
    token,
    fetch: (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (new URL(url).pathname === "/api/activities") calls.listActivities += 1;
      return fetch(input, init);
    },
  });
  const client = new HubClient({ ...FAST, baseUrl: hub.url, token, WebSocket, ...options });
  const wrapper = ({ children }: { children?: ReactNode }) =>
    createElement(HubProvider, { client, api }, children);
  return { api, client, wrapper, calls };
}

function strictlyNewestFirst(ids: string[]): boolean {
  return ids.every((id, i) => i === 0 || compareIds(ids[i - 1] as string, id) > 0);
}

test("useHubState follows the connection", async () => {
  const { client, wrapper } = setup();
  const { result } = renderHook(() => useHubState(), { wrapper });
  await waitFor(() => expect(result.current.state).toBe("connected"), { timeout: 10_000 });
  expect(result.current.nodeId).toMatch(/\S/);
  act(() => client.disconnect());
  expect(result.current.state).toBe("disconnected");
  expect(result.current.lastDisconnect?.willReconnect).toBe(false);
});

test("useHub exposes the client and api of the provider", () => {
  const { client, api, wrapper } = setup();
  const { result } = renderHook(() => useHub(), { wrapper });
  expect(result.current.client).toBe(client);
  expect(result.current.api).toBe(api);
  expect(() => renderHook(() => useHub())).toThrow(/HubProvider/);
});

test("useActivityFeed: the first page, then live events merged once, then older pages", async () => {
  const before: string[] = [];
  for (let i = 0; i < 8; i += 1) before.push((await hub.publish(userId, { title: `old ${i}` })).id);
  const { client, wrapper } = setup();
  const { result } = renderHook(() => useActivityFeed({ limit: 5, types: ["notification"] }), {
    wrapper,
  });
  await waitFor(() => expect(result.current.loading).toBe(false), { timeout: 10_000 });
  expect(result.current.items.map((a) => a.id)).toEqual(before.slice(-5).reverse());
  expect(result.current.hasMore).toBe(true);

  await client.ready(10_000);
  const live1 = await hub.publish(userId, { title: "live 1" });
  const live2 = await hub.publish(userId, { title: "live 2" });
  // Not this feed's type: never shown.
  await hub.publish(userId, { type: "meeting_booked", title: "other type" });
  await waitFor(() => expect(result.current.items[0]?.id).toBe(live2.id), { timeout: 10_000 });
  expect(result.current.items.map((a) => a.id).slice(0, 2)).toEqual([live2.id, live1.id]);

  await act(() => result.current.loadMore());
  const ids = result.current.items.map((a) => a.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(strictlyNewestFirst(ids)).toBe(true);
  expect(ids).toEqual(expect.arrayContaining([...before.slice(-8), live1.id, live2.id]));
  expect(result.current.items.every((a) => a.type === "notification")).toBe(true);
});

test("useActivityFeed refetches the newest page on a gap", async () => {
  const published: string[] = [];
  for (let i = 0; i < 10; i += 1)
    published.push((await hub.publish(userId, { title: `g${i}` })).id);
  // Resuming from the first of them: the 5-event history cannot cover it.
  const { client, wrapper, calls } = setup({ lastEventId: published[0] as string });
  const gaps: unknown[] = [];
  client.on("gap", (g) => gaps.push(g));
  const { result } = renderHook(() => useActivityFeed({ limit: 20 }), { wrapper });
  await waitFor(() => expect(gaps.length).toBe(1), { timeout: 10_000 });
  await waitFor(() => expect(calls.listActivities).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
  await waitFor(() => expect(result.current.loading).toBe(false));
  const ids = result.current.items.map((a) => a.id);
  expect(ids).toEqual(expect.arrayContaining(published.slice(-9)));
  expect(new Set(ids).size).toBe(ids.length);
  expect(strictlyNewestFirst(ids)).toBe(true);
});

test("useTask shows live progress, status and ETA", async () => {
  const task = await hub.createTask(userId, { title: "Research ACME" });
  const { client, wrapper } = setup();
  const { result } = renderHook(() => useTask(task.id), { wrapper });
  await waitFor(() => expect(result.current.task?.status).toBe("queued"), { timeout: 10_000 });
  await client.ready(10_000);
  await hub.updateTask(task.id, { status: "running", progress: 40, eta_seconds: 30 });
  await waitFor(() => expect(result.current.task?.progress).toBe(40), { timeout: 10_000 });
  expect(result.current.task?.eta_seconds).toBe(30);
  await hub.updateTask(task.id, { status: "completed", progress: 100 });
  await waitFor(() => expect(result.current.task?.status).toBe("completed"), { timeout: 10_000 });
  expect(result.current.error).toBeNull();
});

test("useTasks lists tasks and follows their updates", async () => {
  const first = await hub.createTask(userId, { title: "Write post", kind: "content" });
  const { client, wrapper } = setup();
  const { result } = renderHook(() => useTasks({ kind: "content" }), { wrapper });
  await waitFor(() => expect(result.current.items.map((t) => t.id)).toContain(first.id), {
    timeout: 10_000,
  });
  await client.ready(10_000);
  await hub.updateTask(first.id, { status: "running", progress: 5 });
  await waitFor(
    () => expect(result.current.items.find((t) => t.id === first.id)?.progress).toBe(5),
    { timeout: 10_000 },
  );
  const second = await hub.createTask(userId, { title: "Another post", kind: "content" });
  await hub.updateTask(second.id, { status: "running", progress: 1 });
  await waitFor(() => expect(result.current.items[0]?.id).toBe(second.id), { timeout: 10_000 });
});

test("useTask reports an unknown task as a 404 HubError", async () => {
  const { wrapper } = setup();
  const { result } = renderHook(() => useTask("tsk_nope"), { wrapper });
  await waitFor(() => expect(result.current.error?.status).toBe(404), { timeout: 10_000 });
  expect(result.current.task).toBeNull();
  expect(result.current.loading).toBe(false);
});
