// The embeddable webhook portal end to end: links made with the service key
// are opened in fresh browser contexts (no dashboard login anywhere), against
// the real hub binary and a real receiver on 127.0.0.1. A link shows only its
// user's endpoints, manages them (create, test, secret), shows deliveries
// live, survives a reload of its tab, works once, ends at its expiry, and in
// read-only mode has no control that changes anything. The portal can be
// framed by an allowed origin and by no other; the dashboard by none.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  eventually,
  mintAccessToken,
  startHub,
  uniqueEmail,
  type Hub,
} from "../../testing/hub.mjs";
import { expectAccessible, launch, newPage, screenshots } from "./browser";
import { startReceiver, verifyWithStandardWebhooks, type Receiver } from "./webhooks-helpers";

let hub: Hub;
let browser: Browser;
let receiver: Receiver;
/** A page on another origin that puts a URL in an iframe: `/?src=<url>`. */
let embedder: { server: Server; origin: string };
let stranger: { server: Server; origin: string };
const contexts: BrowserContext[] = [];
const problems: string[][] = [];

let alice = "";
let bob = "";
let aliceHook = "";
let bobHook = "";

async function embeddingServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const src = new URL(req.url ?? "/", "http://x").searchParams.get("src") ?? "about:blank";
    const escaped = src.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><html lang="en"><head><title>The AI Clone app</title></head>` +
        `<body><h1>Settings</h1><iframe title="Webhook portal" src="${escaped}" ` +
        `style="width:100%;height:700px;border:0"></iframe></body></html>`,
    );
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

async function portalLink(
  userId: string,
  options: { ttl_seconds?: number; read_only?: boolean } = {},
): Promise<{ url: string; expires_at: string }> {
  const res = await hub.request("POST", "/api/portal/sessions", {
    auth: "service",
    body: { user_id: userId, ...options },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { url: string; expires_at: string };
}

async function createHook(userId: string, path: string): Promise<string> {
  const res = await hub.request("POST", "/api/webhooks", {
    auth: "service",
    body: { user_id: userId, url: `${receiver.url}${path}`, description: `hook of ${path}` },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function hooksOf(userId: string): Promise<{ id: string; url: string }[]> {
  const res = await hub.request("GET", `/api/webhooks?user_id=${userId}`, { auth: "service" });
  return ((await res.json()) as { items: { id: string; url: string }[] }).items;
}

/** A fresh browser context: nothing stored, no dashboard login. */
async function freshPage(): Promise<Page> {
  const opened = await newPage(browser);
  contexts.push(opened.context);
  problems.push(opened.problems);
  return opened.page;
}

beforeAll(async () => {
  receiver = await startReceiver();
  embedder = await embeddingServer();
  stranger = await embeddingServer();
  hub = await startHub({
    env: {
      HUB__WEBHOOKS__RETRY_SCHEDULE: "0s,300ms,600ms",
      HUB__SERVER__ALLOWED_ORIGINS: embedder.origin,
    },
  });
  browser = await launch();
  alice = (await hub.register(uniqueEmail("portal-alice"))).id;
  bob = (await hub.register(uniqueEmail("portal-bob"))).id;
  aliceHook = await createHook(alice, "/alice/crm");
  bobHook = await createHook(bob, "/bob/secret-project");
});

afterEach(() => {
  for (const list of problems) expect(list).toEqual([]);
});

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await hub?.close();
  await receiver?.close();
  embedder?.server.close();
  stranger?.server.close();
});

describe("the webhook portal", () => {
  let page: Page;
  let link = "";

  test("a link shows only its user's endpoints, and leaves no token in the address bar", async () => {
    link = (await portalLink(alice)).url;
    expect(link).toMatch(new RegExp(`^${hub.url}/portal#token=hub_portal_`));
    page = await freshPage();
    await page.goto(link);
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    expect(page.url()).toBe(`${hub.url}/portal`);
    const rows = page.locator("[data-webhook-id]");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute("data-webhook-id")).toBe(aliceHook);
    expect(await page.content()).not.toContain("secret-project");
    expect(await page.content()).not.toContain(bobHook);
    await expect.poll(() => page.locator(".conn").getAttribute("data-state")).toBe("live");
    expect(await page.getByText("This link works until").count()).toBe(1);
    await screenshots(page, "portal-01-list");
    await expectAccessible(page, "portal, list");
  });

  test("the portal manages the endpoints: create, secret, test event, and a live log", async () => {
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByLabel("Endpoint URL").fill(`${receiver.url}/alice/portal-made`);
    await page.getByLabel("Meeting booked").check();
    await page.getByRole("button", { name: "Create endpoint" }).click();
    const created = page.getByTestId("created-secret");
    await created.waitFor();
    const secret = (await created.textContent()) ?? "";
    await page.getByRole("button", { name: "Done" }).click();
    const made = (await hooksOf(alice)).find((w) => w.url.endsWith("/alice/portal-made"));
    expect(made).toBeDefined();
    expect((await hooksOf(bob)).map((w) => w.id)).toEqual([bobHook]);

    await page.getByRole("button", { name: "Reveal secret" }).click();
    await expect.poll(() => page.getByTestId("webhook-secret").textContent()).toBe(secret);

    await page.getByRole("button", { name: "Send test event" }).click();
    await expect
      .poll(() => page.getByTestId("test-result").textContent())
      .toContain("Test event delivered: HTTP 200");
    const arrived = await eventually("the portal's test event at the receiver", () =>
      receiver.requests.find(
        (r) => r.path === "/alice/portal-made" && r.json.type === "webhook.test",
      ),
    );
    const verified = await verifyWithStandardWebhooks(secret, arrived);
    expect(verified.code, verified.output).toBe(0);

    // Deliveries of a published activity, retried on a failing receiver,
    // reach the portal's open log over its own WebSocket.
    receiver.status = 500;
    const activity = await hub.publish(alice, { type: "meeting_booked", title: "Demo booked" });
    const first = await eventually("the failing delivery at the receiver", () =>
      receiver.requests.find(
        (r) => r.path === "/alice/portal-made" && r.json.type === "meeting_booked",
      ),
    );
    expect(first.json.data.id).toBe(activity.id);
    const row = page.locator(`[data-delivery-id="${String(first.headers["webhook-id"])}"]`);
    await expect
      .poll(async () => ((await row.count()) ? await row.getAttribute("data-status") : null), {
        timeout: 10_000,
      })
      .toBe("failed");
    expect(await row.getAttribute("data-attempts")).toBe("3");
    receiver.status = 200;
    await screenshots(page, "portal-02-detail");
    await expectAccessible(page, "portal, endpoint");
  });

  test("REST hook subscriptions show beside the other endpoints, with their event", async () => {
    const carol = (await hub.register(uniqueEmail("portal-carol"))).id;
    const res = await hub.request("POST", "/api/hooks", {
      auth: mintAccessToken(carol, 600),
      body: { target_url: `${receiver.url}/carol/zap`, event: "presence.online" },
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await createHook(carol, "/carol/crm");
    const p = await freshPage();
    await p.goto((await portalLink(carol)).url);
    const rows = p.locator("[data-webhook-id]");
    await expect.poll(() => rows.count()).toBe(2);
    const row = p.locator(`[data-webhook-id="${id}"]`);
    const text = (await row.textContent()) ?? "";
    expect(text).toContain("REST hook: presence.online");
    expect(text).toContain("User comes online");
    expect(text).toContain("standard");
  });

  test("a reload of the same tab keeps the session; the link itself works only once", async () => {
    await page.reload();
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await expect.poll(() => page.locator("[data-webhook-id]").count()).toBe(2);

    const again = await freshPage();
    await again.goto(link);
    await again.getByRole("heading", { name: "This link cannot be used" }).waitFor();
    expect(await again.locator("[data-webhook-id]").count()).toBe(0);
    await screenshots(again, "portal-03-used");
    await expectAccessible(again, "portal, used link");
  });

  test("a read-only link lists and shows, with no control that changes anything", async () => {
    const readOnly = await freshPage();
    await readOnly.goto((await portalLink(alice, { read_only: true })).url);
    await readOnly.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await readOnly.getByText("Read-only: you can see the endpoints").waitFor();
    await expect.poll(() => readOnly.locator("[data-webhook-id]").count()).toBe(2);
    const mutating = [
      "Add endpoint",
      "Send test event",
      "Delete",
      "Rotate secret",
      "Reveal secret",
      "Retry",
      "Enable again",
    ];
    const countButtons = async () => {
      let n = 0;
      for (const name of mutating) n += await readOnly.getByRole("button", { name }).count();
      return n;
    };
    expect(await countButtons()).toBe(0);
    await screenshots(readOnly, "portal-04-readonly-list");
    await readOnly.locator("[data-webhook-id]").last().getByRole("button").first().click();
    await readOnly.getByRole("heading", { name: "Delivery log" }).waitFor();
    await expect.poll(() => readOnly.locator("[data-delivery-id]").count()).toBeGreaterThan(0);
    expect(await countButtons()).toBe(0);
    expect(await readOnly.getByText("the secret is not shown").count()).toBe(1);
    await screenshots(readOnly, "portal-05-readonly-detail");
    await expectAccessible(readOnly, "portal, read-only");
  });

  test("at its expiry the portal says the link has expired", async () => {
    const short = await freshPage();
    // Long enough to open on a busy machine, short enough to wait for.
    const { url } = await portalLink(alice, { ttl_seconds: 6 });
    await short.goto(url);
    await short.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await short
      .getByRole("heading", { name: "This link has expired" })
      .waitFor({ timeout: 15_000 });
    expect(await short.locator("[data-webhook-id]").count()).toBe(0);
    await short.reload();
    await short.getByRole("heading", { name: "This link has expired" }).waitFor();
    await screenshots(short, "portal-06-expired");
    await expectAccessible(short, "portal, expired link");
  });

  test("an allowed origin can frame the portal, another origin cannot, the dashboard nobody", async () => {
    const portal = await fetch(`${hub.url}/portal`);
    expect(portal.status).toBe(200);
    const portalCsp = portal.headers.get("content-security-policy") ?? "";
    expect(portalCsp).toContain(`frame-ancestors 'self' ${embedder.origin}`);
    expect(portal.headers.get("x-frame-options")).toBeNull();
    const dashboard = await fetch(`${hub.url}/`);
    expect(dashboard.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(dashboard.headers.get("x-frame-options")).toBe("DENY");

    const host = await freshPage();
    const framed = (await portalLink(alice)).url;
    await host.goto(`${embedder.origin}/?src=${encodeURIComponent(framed)}`);
    const frame = host.frameLocator('iframe[title="Webhook portal"]');
    await frame.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await expect.poll(() => frame.locator("[data-webhook-id]").count()).toBe(2);
    await screenshots(host, "portal-07-embedded");

    const elsewhere = await freshPage();
    const blocked = (await portalLink(alice)).url;
    await elsewhere.goto(`${stranger.origin}/?src=${encodeURIComponent(blocked)}`);
    // Chromium replaces a refused frame with its error page.
    await expect
      .poll(() => elsewhere.frames().some((f) => f.url().startsWith("chrome-error://")), {
        timeout: 10_000,
      })
      .toBe(true);
    // The refusal is the one console error this test expects.
    for (const list of problems) {
      const kept = list.filter((m) => !/violates .*"frame-ancestors /.test(m));
      list.splice(0, list.length, ...kept);
    }
    // Not opened, so not used: the same link still works on its own.
    const direct = await freshPage();
    await direct.goto(blocked);
    await direct.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  });
});
