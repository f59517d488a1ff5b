// The dashboard end to end: Debian's Chromium against the real hub binary.
// One hub, one browser and one signed-in user walk through the screens in
// order (sign-in, feed, tasks, a kill -9 of the hub, analytics, export,
// reload, logout); every screen is checked by axe-core and photographed at
// desktop and phone widths into tests/screenshots/.

import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PASSWORD, eventually, startHub, uniqueEmail, type Hub } from "../../testing/hub.mjs";
import { expectAccessible, launch, newPage, screenshots } from "./browser";
import { pageServer, type PageServer } from "./page";

/** Events per user the hub keeps for resuming. */
const HISTORY = 100;
/** How much of a task's progress the hub needs before it estimates an ETA, plus a margin. */
const MIN_ETA_SAMPLE_MS = 1_200;

let hub: Hub;
let server: PageServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
/** While true, the page's WebSocket connects are refused (closed at once). */
let holdSockets = false;

const email = uniqueEmail("dashboard");
let userId = "";
/** A task started early, so the hub has a progress rate to estimate an ETA from. */
let taskId = "";

let accessToken: string | null = null;

/**
 * An access token of the test user: the page's own, read once while it is
 * signed in (each login costs a password hash, seconds in a debug build).
 */
async function token(): Promise<string> {
  accessToken ??= await page.evaluate(() => {
    const raw = localStorage.getItem("aiclone-hub:session");
    return raw ? (JSON.parse(raw) as { access_token: string }).access_token : null;
  });
  if (!accessToken) throw new Error("the page holds no session");
  return accessToken;
}

async function api<T>(path: string): Promise<T> {
  const res = await hub.request("GET", path, { auth: await token() });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

function status() {
  return page.locator(".conn");
}

beforeAll(async () => {
  // A short resume history, so that a long absence leaves a gap to refetch.
  hub = await startHub({ env: { HUB__WEBSOCKET__HISTORY_SIZE: String(HISTORY) } });
  server = await pageServer(hub);
  browser = await launch();
  ({ context, page, problems } = await newPage(browser));
  await page.routeWebSocket(/\/api\/ws/, (ws: WebSocketRoute) => {
    if (holdSockets) {
      void ws.close({ code: 1012, reason: "held by the test" });
      return;
    }
    ws.connectToServer();
  });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  await hub?.close();
});

describe("the dashboard", () => {
  test("sign-in explains a wrong password, then registration signs the user in", async () => {
    // The page is served with its strict policy, so everything below also
    // proves it runs without inline script or style (a violation is a
    // console error, which the last test fails on).
    const head = await fetch(`${server.url}/`);
    await head.body?.cancel();
    expect(head.headers.get("content-security-policy")).toContain("script-src 'self'");
    await page.goto(server.url);
    await expect.poll(() => page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
    await screenshots(page, "01-signin");
    await expectAccessible(page, "sign-in");

    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).last().click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toContain("Wrong e-mail or password.");
    await screenshots(page, "02-signin-error");

    await page.getByRole("button", { name: "Create account" }).first().click();
    await page.getByLabel("Full name (optional)").fill("Ada Lovelace");
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.locator("form").getByRole("button", { name: "Create account" }).click();

    await page.getByRole("heading", { name: "Live feed" }).waitFor();
    await expect.poll(() => status().getAttribute("data-state")).toBe("live");
    const health = (await (await fetch(`${hub.url}/health`)).json()) as { node_id: string };
    expect(await status().textContent()).toContain(health.node_id);
    const me = await api<{ id: string }>("/api/auth/me");
    userId = me.id;
    const task = await hub.createTask(userId, { kind: "research", title: "Research Acme Corp" });
    taskId = task.id;
    await hub.updateTask(taskId, {
      status: "running",
      progress: 5,
      message: "Reading the website",
    });
  });

  test("an activity published over REST appears in the feed within a second, with its link", async () => {
    const started = Date.now();
    const published = await hub.publish(userId, {
      type: "meeting_booked",
      title: "Meeting booked with Grace Hopper",
      message: "Tuesday 10:00, video call",
      link: "https://example.com/meetings/42",
    });
    const item = page.locator(`[data-activity-id="${published.id}"]`);
    await item.waitFor({ timeout: 1000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1000);
    await expect
      .poll(() => item.getByRole("link").getAttribute("href"))
      .toBe("https://example.com/meetings/42");

    // Filtering by type: only that type is listed, live events included.
    await hub.publish(userId, { type: "prospect_added", title: "Prospect added: Initech" });
    await page.getByLabel("Type").selectOption("outreach_sent");
    const outreach = await hub.publish(userId, {
      type: "outreach_sent",
      title: "Intro e-mail sent to Initech",
    });
    await page.locator(`[data-activity-id="${outreach.id}"]`).waitFor();
    await expect.poll(() => page.locator("[data-activity-id]").count()).toBe(1);
    await page.getByLabel("Type").selectOption("");
    await expect.poll(() => page.locator("[data-activity-id]").count()).toBe(3);
    await screenshots(page, "03-feed");
    await expectAccessible(page, "feed");
  });

  test("older pages load when the end of the feed scrolls into view", async () => {
    const month = Date.now() - 20 * 86_400_000;
    const activities = Array.from({ length: 60 }, (_, i) => ({
      type: (
        ["prospect_added", "outreach_sent", "research_completed", "content_published"] as const
      )[i % 4],
      title: `Back-filled activity ${i + 1}`,
      created_at: new Date(month + i * 7 * 3_600_000).toISOString(),
    }));
    const res = await hub.request("POST", "/api/activities/bulk", {
      auth: "service",
      body: { user_id: userId, activities },
    });
    expect(res.status).toBe(201);
    await page.reload();
    await page.getByRole("heading", { name: "Live feed" }).waitFor();
    await page.locator("[data-activity-id]").first().waitFor();
    const firstPage = await page.locator("[data-activity-id]").count();
    expect(firstPage).toBeLessThan(63);
    await page.locator(".feed-foot").scrollIntoViewIfNeeded();
    await expect
      .poll(() => page.locator("[data-activity-id]").count(), { timeout: 10_000 })
      .toBeGreaterThan(firstPage);
    await eventually("every page loaded", async () => {
      await page.locator(".feed-foot").scrollIntoViewIfNeeded();
      return (await page.locator("[data-activity-id]").count()) === 63;
    });
    await expect
      .poll(() => page.locator(".feed-foot").textContent())
      .toContain("That is everything");
  });

  test("a task moved to 40 % shows 40 % and an ETA", async () => {
    await page.getByRole("link", { name: "Tasks" }).click();
    await page.getByRole("heading", { name: "Tasks" }).waitFor();
    const row = page.locator(`[data-task-id="${taskId}"]`);
    await row.waitFor();
    // The hub estimates an ETA only from at least a second of progress (a
    // shorter sample is noise), and the tests before this one can take less.
    const { started_at } = await api<{ started_at: string }>(`/api/tasks/${taskId}`);
    const sampled = Date.parse(started_at) + MIN_ETA_SAMPLE_MS;
    if (Date.now() < sampled) await new Promise((r) => setTimeout(r, sampled - Date.now()));
    await hub.updateTask(taskId, { progress: 40, message: "Summarising findings" });
    await expect.poll(() => row.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("40");
    expect(await row.locator(".progress-value").textContent()).toBe("40 %");
    await expect.poll(() => row.locator(".task-eta").textContent()).toMatch(/^ETA \d/);
    expect(await row.textContent()).toContain("Summarising findings");

    const queued = await hub.createTask(userId, {
      kind: "content",
      title: "Draft the March newsletter",
    });
    await page.locator(`[data-task-id="${queued.id}"]`).waitFor();
    const done = await hub.createTask(userId, { kind: "outreach", title: "Follow up with Globex" });
    await hub.updateTask(done.id, { status: "running", progress: 60 });
    await hub.updateTask(done.id, { status: "completed", progress: 100 });
    await page.getByRole("button", { name: "All" }).click();
    await expect
      .poll(() => page.locator(`[data-task-id="${done.id}"] .task-status`).textContent())
      .toBe("Completed");
    await screenshots(page, "04-tasks");
    await expectAccessible(page, "tasks");
  });

  test("after kill -9 and a restart, the page shows reconnecting, then every activity published meanwhile, once each", async () => {
    await page.getByRole("link", { name: "Live feed" }).click();
    await page.getByRole("heading", { name: "Live feed" }).waitFor();
    await expect.poll(() => status().getAttribute("data-state")).toBe("live");

    holdSockets = true;
    await hub.kill9();
    await expect
      .poll(() => status().getAttribute("data-state"), { timeout: 20_000 })
      .toBe("reconnecting");
    await expect.poll(() => status().textContent()).toMatch(/Reconnecting/);
    await screenshots(page, "05-reconnecting");

    await hub.restart();
    const titles = Array.from(
      { length: 5 },
      (_, i) => `Published while the page was away #${i + 1}`,
    );
    const ids: string[] = [];
    for (const title of titles)
      ids.push((await hub.publish(userId, { type: "automation_triggered", title })).id);
    expect(await page.locator(`[data-activity-id="${ids[0]}"]`).count()).toBe(0);

    const refetches = watchRefetches();
    holdSockets = false;
    await expect.poll(() => status().getAttribute("data-state"), { timeout: 30_000 }).toBe("live");
    for (const id of ids) await page.locator(`[data-activity-id="${id}"]`).waitFor();
    for (const title of titles)
      expect(await page.getByText(title, { exact: true }).count()).toBe(1);
    const all = await page
      .locator("[data-activity-id]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-activity-id")));
    expect(new Set(all).size).toBe(all.length);
    // They came by resuming the WebSocket, not by reading the list again.
    expect(refetches.stop()).toEqual([]);
  });

  test("after an absence longer than the hub's history, the gap is refetched over REST", async () => {
    holdSockets = true;
    await hub.kill9();
    await expect
      .poll(() => status().getAttribute("data-state"), { timeout: 20_000 })
      .toBe("reconnecting");
    await hub.restart();
    const missed = Array.from({ length: HISTORY + 20 }, (_, i) => ({
      type: "notification" as const,
      title: `Missed while away #${i + 1}`,
    }));
    const res = await hub.request("POST", "/api/activities/bulk", {
      auth: "service",
      body: { user_id: userId, activities: missed },
    });
    expect(res.status).toBe(201);
    const { ids } = (await res.json()) as { ids: string[] };

    const refetches = watchRefetches();
    try {
      holdSockets = false;
      await expect
        .poll(() => status().getAttribute("data-state"), { timeout: 30_000 })
        .toBe("live");
      // The newest page comes over REST: the history no longer reached back.
      await expect.poll(() => refetches.urls.length, { timeout: 10_000 }).toBeGreaterThan(0);
      await page.locator(`[data-activity-id="${ids[ids.length - 1]}"]`).waitFor();
      expect(
        await page.getByText(`Missed while away #${HISTORY + 20}`, { exact: true }).count(),
      ).toBe(1);
      const all = await page
        .locator("[data-activity-id]")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-activity-id")));
      expect(new Set(all).size).toBe(all.length);
    } finally {
      refetches.stop();
    }
  });

  test("the analytics page draws every metric, with totals that match the API", async () => {
    await page.getByRole("link", { name: "Analytics" }).click();
    await page.getByRole("heading", { name: "Analytics" }).waitFor();
    await page.getByLabel("Time zone").selectOption("UTC");
    await expectChartsMatch("month", "UTC");
    await screenshots(page, "06-analytics-month");
    await expectAccessible(page, "analytics");

    await page.getByRole("button", { name: "Week", exact: true }).click();
    await page.getByLabel("Time zone").selectOption("Asia/Tokyo");
    await expectChartsMatch("week", "Asia/Tokyo");
    await screenshots(page, "07-analytics-week");
  });

  test("the forecast is asked for when the hub offers it, and drawn as a dashed band", async () => {
    await page.getByRole("button", { name: "Month", exact: true }).click();
    await page.getByLabel("Time zone").selectOption("UTC");
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (r.url().includes("/api/analytics/summary")) asked.push(r.url());
    };
    page.on("request", onRequest);
    try {
      // This hub lists `forecast` among the summary's parameters.
      await page.reload();
      await page.locator("figure.chart canvas").first().waitFor();
      await expect.poll(() => asked.some((u) => u.includes("forecast=true"))).toBe(true);
      const summary = await api<ForecastSummary>(
        "/api/analytics/summary?time_range=month&tz=UTC&forecast=true",
      );
      const drawn = summary.metrics.filter((m) => (m.forecast?.points.length ?? 0) > 0);
      // The back-filled history is long enough for a model on several metrics.
      expect(drawn.length).toBeGreaterThan(0);
      for (const m of summary.metrics) {
        const legend = page.locator(`figure.chart[data-metric="${m.metric}"] .chart-legend`);
        const card = page.locator(`.metric-card[data-metric="${m.metric}"] .metric-forecast`);
        const hasPoints = (m.forecast?.points.length ?? 0) > 0;
        await expect.poll(() => legend.count()).toBe(hasPoints ? 1 : 0);
        await expect.poll(() => card.count()).toBe(typeof m.forecast?.total === "number" ? 1 : 0);
      }
      await screenshots(page, "08-analytics-forecast");
      await expectAccessible(page, "analytics with a forecast");

      // A hub without forecasts (its document has no such parameter) is not
      // sent one: it would refuse the unknown parameter.
      await page.route("**/api/openapi.json", async (route) => {
        const res = await route.fetch();
        const doc = (await res.json()) as OpenApiDoc;
        const op = doc.paths["/api/analytics/summary"]?.get;
        if (op) op.parameters = op.parameters.filter((p) => p.name !== "forecast");
        await route.fulfill({ response: res, json: doc });
      });
      asked.length = 0;
      await page.reload();
      await page.locator("figure.chart canvas").first().waitFor();
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.filter((u) => u.includes("forecast"))).toEqual([]);
      expect(await page.locator(".chart-legend").count()).toBe(0);
    } finally {
      page.off("request", onRequest);
      await page.unroute("**/api/openapi.json");
    }
  });

  test("an XLSX export downloads a real workbook", async () => {
    await page.getByRole("button", { name: "Month", exact: true }).click();
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: /XLSX/ }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.xlsx$/);
    const path = await file.path();
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 2).toString("latin1")).toBe("PK");
    await expect.poll(() => page.locator(".export-status").textContent()).toContain("Downloaded");
  });

  test("a browser that goes offline is shown as offline, and live again when back", async () => {
    await context.setOffline(true);
    await expect.poll(() => status().getAttribute("data-state")).toBe("offline");
    expect(await status().textContent()).toContain("Offline");
    await context.setOffline(false);
    await expect.poll(() => status().getAttribute("data-state"), { timeout: 30_000 }).toBe("live");
  });

  test("a reload keeps the session", async () => {
    await page.reload();
    await page.getByRole("heading", { name: "Analytics" }).waitFor();
    await expect.poll(() => status().getAttribute("data-state")).toBe("live");
    expect(await page.getByRole("heading", { name: "Sign in" }).count()).toBe(0);
  });

  test("logout ends the session", async () => {
    const before = await storedRefreshToken();
    expect(before).toBeTruthy();
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await storedRefreshToken()).toBeNull();
    const res = await hub.request("POST", "/api/auth/refresh", { body: { refresh_token: before } });
    expect(res.status).toBe(401);
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
  });

  test("a hub that cannot be reached is said in words", async () => {
    await hub.kill9();
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    // From the keyboard this time: Enter in the password field submits.
    await page.getByLabel("Password").press("Enter");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("cannot be reached");
    await screenshots(page, "10-signin-unreachable");
    await hub.restart();
  });

  test("the page raised no errors", () => {
    expect(problems).toEqual([]);
  });
});

describe("a rate-limited sign-in", () => {
  test("says how long to wait, from Retry-After", async () => {
    const limited = await startHub({
      env: {
        HUB__RATE_LIMIT__ENABLED: "true",
        HUB__RATE_LIMIT__POLICIES__AUTH__LIMIT: "1",
        HUB__RATE_LIMIT__POLICIES__AUTH__WINDOW: "60s",
      },
    });
    const limitedServer = await pageServer(limited);
    const fresh = await newPage(browser);
    try {
      const p = fresh.page;
      await p.goto(limitedServer.url);
      await p.getByRole("heading", { name: "Sign in" }).waitFor();
      await p.getByLabel("E-mail").fill("nobody@example.test");
      await p.getByLabel("Password").fill("not the password");
      const submit = p.getByRole("button", { name: "Sign in", exact: true }).last();
      // The policy allows one attempt a minute: the first is answered, the second refused.
      await submit.click();
      await expect
        .poll(() => p.getByRole("alert").textContent())
        .toContain("Wrong e-mail or password.");
      await submit.click();
      await expect
        .poll(() => p.getByRole("alert").textContent())
        .toMatch(/Too many attempts\. Try again in \d+ s\./);
      expect(await submit.isDisabled()).toBe(true);
      await screenshots(p, "09-signin-rate-limited");
      expect(fresh.problems).toEqual([]);
    } finally {
      await fresh.context.close();
      await limitedServer.close();
      await limited.close();
    }
  });
});

interface OpenApiDoc {
  paths: Record<string, { get?: { parameters: { name: string }[] } }>;
}

interface ForecastSummary {
  metrics: {
    metric: string;
    forecast?: { total: number | null; points: unknown[] } | null;
  }[];
}

interface Summary {
  metrics: { metric: string; total: number; data_points: { value: number }[] }[];
}

/** Each chart is drawn, its plotted series sums to the API's total, and each card shows that total. */
async function expectChartsMatch(range: string, tz: string): Promise<void> {
  const summary = await api<Summary>(
    `/api/analytics/summary?time_range=${range}&tz=${encodeURIComponent(tz)}`,
  );
  expect(summary.metrics).toHaveLength(9);
  for (const m of summary.metrics) {
    const chart = page.locator(`figure.chart[data-metric="${m.metric}"]`);
    await chart.locator("canvas").waitFor();
    await expect
      .poll(() =>
        page
          .locator(`.metric-card[data-metric="${m.metric}"] .metric-total`)
          .getAttribute("data-total"),
      )
      .toBe(String(m.total));
    if (m.metric !== "conversion_rate") {
      await expect.poll(() => chart.getAttribute("data-sum")).toBe(String(m.total));
      await expect.poll(() => chart.getAttribute("data-points")).toBe(String(m.data_points.length));
    }
  }
  const drawn = await page
    .locator("figure.chart canvas")
    .evaluateAll((els) =>
      els.map((c) => (c as HTMLCanvasElement).width > 0 && (c as HTMLCanvasElement).height > 0),
    );
  expect(drawn).toHaveLength(9);
  expect(drawn.every(Boolean)).toBe(true);
}

/** Records the page's reads of the newest activity page (no cursor) until stop(). */
function watchRefetches(): { urls: string[]; stop(): string[] } {
  const urls: string[] = [];
  const onRequest = (r: { url(): string }) => {
    const url = new URL(r.url());
    if (url.pathname === "/api/activities" && !url.searchParams.has("cursor")) urls.push(url.href);
  };
  page.on("request", onRequest);
  return {
    urls,
    stop() {
      page.off("request", onRequest);
      return urls;
    },
  };
}

async function storedRefreshToken(): Promise<string | null> {
  // Where the client's session keeps its token pair.
  const raw = await page.evaluate(() => localStorage.getItem("aiclone-hub:session"));
  if (!raw) return null;
  return (JSON.parse(raw) as { refresh_token?: string }).refresh_token ?? null;
}
