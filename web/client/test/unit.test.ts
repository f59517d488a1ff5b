// Client behaviour that needs no hub: parsing helpers, and a tiny local
// WebSocket server (the `ws` package) that says things the hub never says.

import { afterEach, expect, test } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { freePort, mintAccessToken } from "../../testing/hub.mjs";
import {
  HubApi,
  HubClient,
  HubError,
  compareIds,
  decodeJwt,
  seededRandom,
  tokenExpiry,
  webSocketUrl,
} from "../src/index.js";
import { errorFromResponse } from "../src/errors.js";
import { eventually, FAST, recordedClient } from "./helpers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function welcome() {
  return JSON.stringify({
    type: "welcome",
    session_id: "ses_1",
    user_id: "usr_1",
    node_id: "node-local",
    heartbeat_interval_ms: 15000,
    server_time: new Date().toISOString(),
  });
}

function activity(id: string) {
  return {
    id,
    user_id: "usr_1",
    type: "notification",
    title: `event ${id}`,
    message: null,
    metadata: {},
    link: null,
    created_at: new Date().toISOString(),
  };
}

async function localServer(onConnection: (socket: WebSocket, url: string) => void) {
  const port = await freePort();
  const server = new WebSocketServer({ host: "127.0.0.1", port });
  await new Promise<void>((r) => server.once("listening", () => r()));
  server.on("connection", (socket, req) => onConnection(socket, req.url ?? ""));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of server.clients) c.terminate();
        server.close(() => r());
      }),
  );
  return { port, url: `http://127.0.0.1:${port}` };
}

test("ids compare as numbers even if their padding differs", () => {
  expect(compareIds("0000000000000000009", "0000000000000000010")).toBe(-1);
  expect(compareIds("0000000000000000010", "0000000000000000010")).toBe(0);
  expect(compareIds("99", "0000000000000000100")).toBe(-1);
});

test("JWT claims are read without verifying, and garbage is no token", () => {
  const token = mintAccessToken("usr_x", 60);
  expect(decodeJwt(token)?.sub).toBe("usr_x");
  const exp = tokenExpiry(token);
  expect(exp).not.toBeNull();
  expect(Math.abs((exp as number) - (Date.now() + 60_000))).toBeLessThan(2_000);
  expect(decodeJwt("not-a-token")).toBeNull();
  expect(decodeJwt("a.b.c")).toBeNull();
  expect(tokenExpiry("hub_pat_abc")).toBeNull();
});

test("the WebSocket URL follows the base URL's scheme and path", () => {
  expect(webSocketUrl("http://127.0.0.1:8080").href).toBe("ws://127.0.0.1:8080/api/ws");
  expect(webSocketUrl("https://hub.example/").href).toBe("wss://hub.example/api/ws");
  expect(webSocketUrl("https://hub.example/prefix/").href).toBe("wss://hub.example/prefix/api/ws");
});

test("a base URL that is not one is refused at construction", () => {
  for (const baseUrl of ["", "127.0.0.1:8080", "not a url", "ftp://127.0.0.1/"]) {
    expect(() => new HubClient({ baseUrl, token: "t", WebSocket })).toThrow(TypeError);
  }
  expect(() => new HubApi({ baseUrl: "nope" })).toThrow(TypeError);
  expect(() => new HubClient({ baseUrl: "http://127.0.0.1:1", WebSocket })).toThrow(TypeError);
});

test("error responses become HubErrors with status, code, fields and Retry-After", async () => {
  const res = new Response(
    JSON.stringify({
      code: "validation_failed",
      message: "Some fields are invalid.",
      fields: [{ field: "title", message: "is required" }],
    }),
    { status: 422, headers: { "retry-after": "7", "x-request-id": "req-1" } },
  );
  const err = errorFromResponse(res, await res.clone().json());
  expect(err).toBeInstanceOf(HubError);
  expect(err.status).toBe(422);
  expect(err.code).toBe("validation_failed");
  expect(err.fields).toEqual([{ field: "title", message: "is required" }]);
  expect(err.retryAfter).toBe(7);
  expect(err.requestId).toBe("req-1");
  expect(err.transient).toBe(false);
  const bare = errorFromResponse(new Response("<html>", { status: 502 }), "<html>");
  expect(bare.code).toBe("http_502");
  expect(bare.transient).toBe(true);
});

test("frames the client does not know are ignored and counted, never fatal", async () => {
  const { url } = await localServer((socket) => {
    socket.send(welcome());
    socket.send(JSON.stringify({ type: "dance", moves: 3 }));
    socket.send("this is not json");
    socket.send("[1,2,3]");
    socket.send("null");
    socket.send(Buffer.from([1, 2, 3]), { binary: true });
    socket.send(JSON.stringify({ type: "event", id: "../etc", event: "notification", data: {} }));
    socket.send(
      JSON.stringify({
        type: "event",
        id: "0000000000000000001",
        event: "notification",
        data: activity("0000000000000000001"),
      }),
    );
    // A replayed duplicate is dropped by id.
    socket.send(
      JSON.stringify({
        type: "event",
        id: "0000000000000000001",
        event: "notification",
        data: activity("0000000000000000001"),
      }),
    );
  });
  const rec = recordedClient({ baseUrl: url, token: "opaque" });
  cleanups.push(() => rec.client.disconnect());
  rec.client.connect();
  await rec.client.ready(5_000);
  await eventually("the event after the unknown frames", () => rec.events.length === 1);
  await eventually("every odd frame counted", () => rec.client.stats.unknownFrames === 6);
  expect(rec.client.stats.duplicateEvents).toBe(1);
  expect(rec.client.state).toBe("connected");
  expect(rec.client.lastEventId).toBe("0000000000000000001");
});

test("a getToken that throws ends in the terminal unauthorized state, without a loop", async () => {
  let calls = 0;
  let connections = 0;
  const { url } = await localServer(() => {
    connections += 1;
  });
  const rec = recordedClient({
    baseUrl: url,
    getToken: () => {
      calls += 1;
      throw new Error("the refresh token was revoked");
    },
  });
  cleanups.push(() => rec.client.disconnect());
  const ready = rec.client.ready.bind(rec.client);
  rec.client.connect();
  await expect(ready(5_000)).rejects.toMatchObject({ code: "unauthorized" });
  expect(rec.client.state).toBe("unauthorized");
  expect(rec.errors.at(-1)?.code).toBe("unauthorized");
  expect(rec.disconnects.at(-1)?.willReconnect).toBe(false);
  // Time for several backoff rounds (min 50 ms, max 1 s): nothing happens.
  const before = rec.client.stats.attempts;
  await new Promise((r) => setTimeout(r, 1_500));
  expect(rec.client.stats.attempts).toBe(before);
  expect(calls).toBe(1);
  expect(connections).toBe(0);
  expect(rec.client.nextReconnectAt).toBeNull();
  await expect(rec.client.ready()).rejects.toMatchObject({ code: "unauthorized" });
});

test("a getToken failing on the network is retried with backoff, not terminal", async () => {
  let calls = 0;
  const { url } = await localServer((socket) => socket.send(welcome()));
  const rec = recordedClient({
    baseUrl: url,
    getToken: () => {
      calls += 1;
      if (calls < 3) throw new HubError({ status: 0, code: "network_error", message: "down" });
      return "opaque";
    },
  });
  cleanups.push(() => rec.client.disconnect());
  rec.client.connect();
  await rec.client.ready(10_000);
  expect(calls).toBe(3);
  expect(rec.states).not.toContain("unauthorized");
});

test("a base URL where nothing listens retries within the backoff bounds", async () => {
  const port = await freePort();
  const delays: { attempt: number; delay: number }[] = [];
  const rec = recordedClient({
    baseUrl: `http://127.0.0.1:${port}`,
    token: mintAccessToken("usr_1", 60),
    minReconnectDelay: 20,
    maxReconnectDelay: 200,
    random: seededRandom(1),
  });
  rec.client.on("reconnecting", (r) => delays.push({ attempt: r.attempt, delay: r.delay }));
  cleanups.push(() => rec.client.disconnect());
  rec.client.connect();
  await eventually("eight attempts", () => delays.length >= 8, 15_000);
  rec.client.disconnect();
  for (const { attempt, delay } of delays) {
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThan(Math.min(200, 20 * 2 ** attempt));
  }
  // Each failure raised the exponent by one.
  expect(delays.slice(0, 8).map((d) => d.attempt)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(rec.client.stats.connects).toBe(0);
  expect(rec.disconnects.every((d) => d.willReconnect || d.code === 1000)).toBe(true);
  expect(rec.client.state).toBe("disconnected");
});

test("a hub that never sends welcome is given up after connectTimeout", async () => {
  const { url } = await localServer(() => {
    // Accepts the upgrade, then says nothing.
  });
  const rec = recordedClient({ baseUrl: url, token: "opaque", connectTimeout: 300 });
  cleanups.push(() => rec.client.disconnect());
  rec.client.connect();
  await eventually("a connect timeout", () => rec.disconnects.some((d) => d.code === 4901), 5_000);
  expect(rec.client.state).toBe("connecting");
});

test("FAST timings are what the integration tests assume", () => {
  expect(FAST.pingInterval + FAST.pongTimeout).toBeLessThan(FAST.connectTimeout);
});

test("4008 and 1001 reconnect soon, resuming from the last delivered id", async () => {
  const urls: string[] = [];
  const id = "0000000000000000005";
  const { url } = await localServer((socket, path) => {
    urls.push(path);
    socket.send(welcome());
    if (urls.length === 1) {
      socket.send(JSON.stringify({ type: "event", id, event: "notification", data: activity(id) }));
      setTimeout(() => socket.close(4008, "slow consumer"), 20);
    } else if (urls.length === 2) {
      setTimeout(() => socket.close(1001, "going away"), 20);
    }
  });
  const rec = recordedClient({
    baseUrl: url,
    token: "opaque",
    minReconnectDelay: 200,
    maxReconnectDelay: 5_000,
  });
  const delays: number[] = [];
  rec.client.on("reconnecting", (r) => delays.push(r.delay));
  cleanups.push(() => rec.client.disconnect());
  rec.client.connect();
  await eventually("the third session", () => rec.connects === 3, 10_000);
  expect(rec.disconnects.map((d) => d.code)).toEqual([4008, 1001]);
  // "Soon": within the base delay, whatever the failure count.
  for (const d of delays) expect(d).toBeLessThan(200);
  expect(new URL(urls[0] as string, url).searchParams.get("last_event_id")).toBeNull();
  for (const u of urls.slice(1)) {
    expect(new URL(u, url).searchParams.get("last_event_id")).toBe(id);
  }
  expect(rec.events.map((e) => e.id)).toEqual([id]);
});

test("subscribe() sends the filter when connected and puts it in later connect URLs", async () => {
  const urls: string[] = [];
  const received: unknown[] = [];
  const { url } = await localServer((socket, path) => {
    urls.push(path);
    socket.on("message", (data) => received.push(JSON.parse(String(data))));
    socket.send(welcome());
  });
  const rec = recordedClient({ baseUrl: url, token: "opaque", events: ["meeting_booked"] });
  cleanups.push(() => rec.client.disconnect());
  rec.client.connect();
  await rec.client.ready(5_000);
  expect(new URL(urls[0] as string, url).searchParams.get("events")).toBe("meeting_booked");
  rec.client.subscribe(["outreach_sent", "notification"]);
  await eventually("the subscribe frame", () => received.length > 0);
  expect(received[0]).toEqual({ type: "subscribe", events: ["outreach_sent", "notification"] });
  expect(() => rec.client.subscribe(["dance" as never])).toThrow(TypeError);
});
