// The webhook screens end to end: Debian's Chromium against the real hub
// binary and a real receiver on 127.0.0.1. One user creates an endpoint in
// the page, sends a test event (it arrives, verifies with the official
// Standard Webhooks library and shows 200 in the log), watches the retries
// of a failing delivery appear live, retries one by hand, rotates the secret
// (the next delivery verifies with the new one), re-enables an endpoint the
// hub disabled, and deletes one. A second hub, with private targets
// refused, shows its SSRF refusal in words beside the URL field.

import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { eventually, startHub, uniqueEmail, type Hub } from "../../testing/hub.mjs";
import { DESKTOP, expectAccessible, launch, newPage, screenshots } from "./browser";
import { pageServer, type PageServer } from "./page";
import {
  signIn,
  startReceiver,
  verifyWithStandardWebhooks,
  type Receiver,
} from "./webhooks-helpers";

let hub: Hub;
let server: PageServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
let receiver: Receiver;

const email = uniqueEmail("webhooks");
let userId = "";
let webhookId = "";
let secret = "";

/** At 360 px, the narrowest width the page supports, nothing scrolls sideways. */
async function fitsNarrowest(p: Page): Promise<void> {
  await p.setViewportSize({ width: 360, height: 780 });
  await expect
    .poll(() => p.evaluate(() => document.documentElement.scrollWidth))
    .toBeLessThanOrEqual(360);
  await p.setViewportSize(DESKTOP);
}

function deliveryRow(id: string): Locator {
  return page.locator(`[data-delivery-id="${id}"]`);
}

beforeAll(async () => {
  receiver = await startReceiver();
  hub = await startHub({
    env: {
      HUB__WEBHOOKS__RETRY_SCHEDULE: "0s,300ms,600ms",
    },
  });
  server = await pageServer(hub);
  browser = await launch();
  ({ context, page, problems } = await newPage(browser));
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const user = await hub.register(email);
  userId = user.id;
});

afterEach(() => {
  expect(problems).toEqual([]);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  await hub?.close();
  await receiver?.close();
});

describe("webhooks in the dashboard", () => {
  test("an endpoint created in the page gets a test event, verified, shown with 200", async () => {
    await signIn(page, `${server.url}/#/webhooks`, email);
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await page.getByText("No endpoints yet").waitFor();
    expect(await page.getByRole("link", { name: "Webhooks" }).getAttribute("aria-current")).toBe(
      "page",
    );
    await screenshots(page, "webhooks-01-empty");
    await expectAccessible(page, "webhooks, empty");

    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByLabel("Endpoint URL").fill(`${receiver.url}/hooks/crm`);
    await page.getByLabel("Description (optional)").fill("CRM sync");
    // None ticked means every activity type; the two presence events too.
    expect(await page.getByRole("checkbox").count()).toBe(10);
    expect(await page.getByLabel("User comes online").isChecked()).toBe(false);
    expect(await page.getByLabel("Format").inputValue()).toBe("standard");
    await screenshots(page, "webhooks-02-create");
    await expectAccessible(page, "webhooks, create");
    await page.getByRole("button", { name: "Create endpoint" }).click();

    const shown = page.getByTestId("created-secret");
    await shown.waitFor();
    secret = (await shown.textContent()) ?? "";
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.getByRole("button", { name: "Copy secret" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await screenshots(page, "webhooks-03-secret-once");
    await fitsNarrowest(page);
    await expectAccessible(page, "webhooks, secret shown once");

    const list = (await (
      await hub.request("GET", `/api/webhooks?user_id=${userId}`, { auth: "service" })
    ).json()) as { items: { id: string; url: string }[] };
    expect(list.items.map((w) => w.url)).toEqual([`${receiver.url}/hooks/crm`]);
    webhookId = list.items[0]!.id;

    await page.getByRole("button", { name: "Done" }).click();
    await page.getByRole("heading", { name: `${receiver.url}/hooks/crm`, level: 2 }).waitFor();
    await page.locator(".empty-state").getByText("No deliveries yet").waitFor();

    await page.getByRole("button", { name: "Send test event" }).click();
    const result = page.getByTestId("test-result");
    await expect.poll(() => result.textContent()).toContain("Test event delivered: HTTP 200");
    const arrived = await eventually("the test event at the receiver", () =>
      receiver.requests.find((r) => r.json.type === "webhook.test"),
    );
    expect(arrived.path).toBe("/hooks/crm");
    expect(arrived.json.data.webhook_id).toBe(webhookId);
    const verified = await verifyWithStandardWebhooks(secret, arrived);
    expect(verified.code, verified.output).toBe(0);

    const row = deliveryRow(String(arrived.headers["webhook-id"]));
    await expect.poll(() => row.getAttribute("data-status")).toBe("succeeded");
    expect(await row.textContent()).toContain("HTTP 200");
    expect(await row.textContent()).toContain("webhook.test");
    await row.getByRole("button", { name: "Show attempts" }).click();
    const attempt = row.locator('[data-attempt="1"]');
    await attempt.waitFor();
    expect(await attempt.textContent()).toContain('{"ok":true}');

    // The list shows the endpoint's last delivery and its status code.
    // Keyboard: back to the list, the focus is on the endpoint just left.
    await page.getByRole("button", { name: "← All endpoints" }).press("Enter");
    const listed = page.locator(`[data-webhook-id="${webhookId}"]`);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.classList.contains("wh-open")))
      .toBe(true);
    await expect.poll(() => listed.textContent()).toContain("HTTP 200");
    expect(await listed.textContent()).toContain("All activity types");
    expect(await listed.textContent()).toContain("standard");
    expect(await listed.textContent()).toContain("Active");
    await screenshots(page, "webhooks-04-list");
    await fitsNarrowest(page);
    await expectAccessible(page, "webhooks, list");
  });

  test("a failing receiver's retries appear live, and one delivery is retried by hand", async () => {
    await page.getByRole("button", { name: `Open ${receiver.url.slice(7)}/hooks/crm` }).click();
    await page.getByText("webhook.test").first().waitFor();
    receiver.status = 500;
    receiver.reply = "receiver is down for maintenance";
    const before = receiver.requests.length;
    const activity = await hub.publish(userId, {
      type: "meeting_booked",
      title: "Meeting booked with Grace Hopper",
    });

    // The first attempt's delivery id is the webhook-id header.
    const first = await eventually("the first failed attempt at the receiver", () =>
      receiver.requests.slice(before).find((r) => r.json.type === "meeting_booked"),
    );
    const deliveryId = String(first.headers["webhook-id"]);
    expect(first.json.data.id).toBe(activity.id);
    const row = deliveryRow(deliveryId);
    // Watched without a reload: the attempt count climbs to the schedule's
    // three, then the delivery is failed.
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          if (!(await row.count())) return null;
          const status = await row.getAttribute("data-status");
          seen.add(`${await row.getAttribute("data-attempts")}:${status}`);
          return status;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe("failed");
    expect(seen.has("3:failed"), [...seen].join(" ")).toBe(true);
    expect(
      [...seen].some((s) => /^[12]:pending$/.test(s)),
      `an attempt before the last, seen: ${[...seen].join(" ")}`,
    ).toBe(true);
    expect(receiver.requests.filter((r) => r.headers["webhook-id"] === deliveryId).length).toBe(3);
    expect(await row.textContent()).toContain("HTTP 500");

    await row.getByRole("button", { name: "Show attempts" }).click();
    await row.locator('[data-attempt="3"]').waitFor();
    expect(await row.locator("[data-attempt]").count()).toBe(3);
    expect(await row.locator('[data-attempt="1"]').textContent()).toContain(
      "receiver is down for maintenance",
    );
    await page.getByRole("button", { name: "Failed" }).click();
    await expect.poll(() => page.locator("[data-delivery-id]").count()).toBe(1);
    await row.waitFor();
    await screenshots(page, "webhooks-05-retries");
    await expectAccessible(page, "webhooks, failed deliveries");
    await fitsNarrowest(page);

    receiver.status = 200;
    receiver.reply = '{"ok":true}';
    await page.getByRole("button", { name: "All", exact: true }).click();
    await row.getByRole("button", { name: "Retry" }).click();
    await expect.poll(() => row.getAttribute("data-status"), { timeout: 10_000 }).toBe("succeeded");
    expect(await row.getAttribute("data-attempts")).toBe("4");
    expect(await row.locator('[data-attempt="4"]').textContent()).toContain("HTTP 200");
  });

  test("a rotated secret signs the next delivery, and the old one still does for the overlap", async () => {
    await page.getByRole("button", { name: "Reveal secret" }).click();
    const shown = page.getByTestId("webhook-secret");
    await expect.poll(() => shown.textContent()).toBe(secret);

    await page.getByRole("button", { name: "Rotate secret" }).click();
    const dialog = page.getByRole("dialog", { name: "Rotate the signing secret?" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("24 hours");
    await screenshots(page, "webhooks-06-rotate-dialog");
    await expectAccessible(page, "webhooks, rotate dialog");
    await dialog.getByRole("button", { name: "Rotate" }).click();
    await page.getByText("every delivery carries two signatures").waitFor();
    await expect.poll(async () => (await shown.textContent()) !== secret).toBe(true);
    const rotated = (await shown.textContent()) ?? "";
    expect(rotated).toMatch(/^whsec_/);

    const before = receiver.requests.length;
    await page.getByRole("button", { name: "Send test event" }).click();
    const next = await eventually("the delivery after the rotation", () =>
      receiver.requests.slice(before).find((r) => r.json.type === "webhook.test"),
    );
    expect(String(next.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    const withNew = await verifyWithStandardWebhooks(rotated, next);
    expect(withNew.code, withNew.output).toBe(0);
    const withOld = await verifyWithStandardWebhooks(secret, next);
    expect(withOld.code, withOld.output).toBe(0);
    const wrong = await verifyWithStandardWebhooks(
      `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
      next,
    );
    expect(wrong.code).toBe(1);
    secret = rotated;
    await screenshots(page, "webhooks-07-rotated");
  });

  test("an endpoint the hub disabled shows why, and is enabled again", async () => {
    receiver.status = 410;
    await hub.publish(userId, { type: "prospect_added", title: "Prospect added: Initech" });
    const disabled = page.getByText("This endpoint is disabled.");
    await disabled.waitFor({ timeout: 10_000 });
    const alert = page.locator(".wh-disabled");
    expect(await alert.textContent()).toMatch(/Reason: .*410/);
    await screenshots(page, "webhooks-08-disabled");
    await expectAccessible(page, "webhooks, disabled");

    receiver.status = 200;
    await page.getByRole("button", { name: "Enable again" }).click();
    await disabled.waitFor({ state: "detached" });
    const webhook = (await (
      await hub.request("GET", `/api/webhooks/${webhookId}?user_id=${userId}`, { auth: "service" })
    ).json()) as { status: string; consecutive_failures: number };
    expect(webhook).toMatchObject({ status: "active", consecutive_failures: 0 });
  });

  test("deleting asks first: Escape and Cancel keep the endpoint, Delete removes it", async () => {
    await page.getByRole("button", { name: "← All endpoints" }).click();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByLabel("Endpoint URL").fill(`${receiver.url}/hooks/old`);
    await page.getByLabel("Meeting booked").check();
    await page.getByLabel("Outreach sent").check();
    await page.getByRole("button", { name: "Create endpoint" }).click();
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByText("Meeting booked, Outreach sent").first().waitFor();

    await page.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this endpoint?" });
    await dialog.waitFor();
    // Focus is inside the dialog: Escape closes it without deleting.
    expect(await page.evaluate(() => document.activeElement?.closest("dialog") !== null)).toBe(
      true,
    );
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Delete" }).click();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Delete" }).click();
    await screenshots(page, "webhooks-09-delete-dialog");
    await dialog.getByRole("button", { name: "Delete endpoint" }).click();
    await page.getByText(`The endpoint ${receiver.url}/hooks/old was deleted.`).waitFor();
    const list = (await (
      await hub.request("GET", `/api/webhooks?user_id=${userId}`, { auth: "service" })
    ).json()) as { items: { url: string }[] };
    expect(list.items.map((w) => w.url)).toEqual([`${receiver.url}/hooks/crm`]);
    expect(await page.locator("[data-webhook-id]").count()).toBe(1);
  });

  test("a Slack endpoint gets a Slack message, and its log shows the body sent", async () => {
    receiver.status = 200;
    receiver.reply = "ok";
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByLabel("Endpoint URL").fill(`${receiver.url}/services/slack`);
    await page.getByLabel("Format").selectOption("slack");
    await expect
      .poll(() => page.locator(".field-hint", { hasText: "Slack message" }).count())
      .toBe(1);
    await screenshots(page, "webhooks-12-create-slack");
    await expectAccessible(page, "webhooks, create a Slack endpoint");
    await page.getByRole("button", { name: "Create endpoint" }).click();
    await page.getByText("which are not signed").waitFor();
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByRole("heading", { name: `${receiver.url}/services/slack`, level: 2 }).waitFor();
    expect(await page.getByTestId("unsigned-note").textContent()).toContain("unsigned");

    await hub.publish(userId, {
      type: "meeting_booked",
      title: "Demo with Initech",
      link: "https://crm.example.com/meetings/9",
    });
    const arrived = await eventually("the Slack message at the receiver", () =>
      receiver.requests.find((r) => r.path === "/services/slack"),
    );
    const message = JSON.parse(arrived.body) as {
      text: string;
      blocks: { elements?: { url?: string }[] }[];
    };
    expect(message.text).toBe("Demo with Initech");
    expect(message.blocks[1]?.elements?.[0]?.url).toBe("https://crm.example.com/meetings/9");
    expect(arrived.headers["webhook-signature"]).toBeUndefined();
    const row = deliveryRow(String(arrived.headers["webhook-id"]));
    await expect.poll(() => row.getAttribute("data-status")).toBe("succeeded");

    // The log read again from the hub shows the exact body sent.
    await page.getByRole("button", { name: "← All endpoints" }).click();
    await page
      .getByRole("button", { name: `Open ${receiver.url.slice(7)}/services/slack` })
      .click();
    await row.getByRole("button", { name: "Show attempts" }).click();
    await row.getByText("Body sent").click();
    const body = row.getByTestId("delivery-body");
    await expect.poll(() => body.textContent()).toBe(arrived.body);
    await screenshots(page, "webhooks-13-slack-body");
    await expectAccessible(page, "webhooks, a Slack delivery's body");
    await page.getByRole("button", { name: "← All endpoints" }).click();
    await page.locator("[data-webhook-id]", { hasText: "services/slack" }).waitFor();
    const listed = page.locator("[data-webhook-id]", { hasText: "services/slack" });
    expect(await listed.textContent()).toContain("slack");
  });

  test("an endpoint's URL, events and format are changed in the page, and deliveries follow", async () => {
    await page
      .getByRole("button", { name: `Open ${receiver.url.slice(7)}/services/slack` })
      .click();
    await page.getByRole("button", { name: "Edit" }).click();
    const form = page.getByRole("region", { name: "Change the endpoint" });
    await form.waitFor();
    expect(await page.getByLabel("Format").inputValue()).toBe("slack");
    await page.getByLabel("Endpoint URL").fill(`${receiver.url}/services/discord`);
    await page.getByLabel("Format").selectOption("discord");
    await page.getByRole("checkbox", { name: "Meeting booked" }).check();
    await screenshots(page, "webhooks-14-edit");
    await expectAccessible(page, "webhooks, change an endpoint");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Changes saved.").waitFor();
    await page
      .getByRole("heading", { name: `${receiver.url}/services/discord`, level: 2 })
      .waitFor();
    expect(await page.locator(".wh-facts-detail").textContent()).toContain("discord");

    const before = receiver.requests.length;
    await hub.publish(userId, { type: "outreach_sent", title: "Not subscribed any more" });
    await hub.publish(userId, { type: "meeting_booked", title: "Lunch with Umbrella" });
    const arrived = await eventually("the Discord message at the new URL", () =>
      receiver.requests
        .slice(before)
        .find((r) => r.path === "/services/discord" && r.body.includes("Umbrella")),
    );
    const message = JSON.parse(arrived.body) as { content: string; embeds: { title: string }[] };
    expect(message.embeds[0]?.title).toBe("Lunch with Umbrella");
    // The other endpoint (all events) gets it; this one no longer does.
    expect(
      receiver.requests
        .slice(before)
        .some((r) => r.path === "/services/discord" && r.body.includes("Not subscribed any more")),
    ).toBe(false);
  });
});

describe("webhooks on a hub that refuses private targets", () => {
  let strict: Hub;
  let strictServer: PageServer;
  let strictContext: BrowserContext;

  afterAll(async () => {
    await strictContext?.close();
    await strictServer?.close();
    await strict?.close();
  });

  test("the SSRF refusal is shown in words beside the URL field", async () => {
    strict = await startHub({ env: { HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS: "false" } });
    strictServer = await pageServer(strict);
    const strictEmail = uniqueEmail("ssrf");
    await strict.register(strictEmail);
    let strictPage: Page;
    let strictProblems: string[];
    ({
      context: strictContext,
      page: strictPage,
      problems: strictProblems,
    } = await newPage(browser));
    await signIn(strictPage, `${strictServer.url}/#/webhooks`, strictEmail);
    await strictPage.getByRole("button", { name: "Add endpoint" }).click();
    // Refused at validation: nothing is ever sent to this address.
    await strictPage.getByLabel("Endpoint URL").fill("http://10.0.0.1/hook");
    await strictPage.getByRole("button", { name: "Create endpoint" }).click();
    const error = strictPage.getByTestId("url-error");
    await error.waitFor();
    expect(await error.textContent()).toBe(
      "10.0.0.1 is a private address, which webhooks may not reach.",
    );
    const field = strictPage.getByLabel("Endpoint URL");
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    expect(await field.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await field.getAttribute("aria-describedby")).toContain(
      (await error.getAttribute("id")) ?? "missing",
    );

    await strictPage.getByLabel("Endpoint URL").fill("ftp://example.com/hook");
    await strictPage.getByRole("button", { name: "Create endpoint" }).click();
    await expect.poll(() => error.textContent()).toBe("The URL must use http or https.");
    await strictPage.getByLabel("Endpoint URL").fill("http://10.0.0.1/hook");
    await strictPage.getByRole("button", { name: "Create endpoint" }).click();
    await expect.poll(() => error.textContent()).toContain("private address");
    await screenshots(strictPage, "webhooks-10-ssrf");
    await expectAccessible(strictPage, "webhooks, SSRF refusal");
    expect(strictProblems).toEqual([]);
  });
});
