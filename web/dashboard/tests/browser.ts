// Helpers for the browser tests: Debian's Chromium through playwright-core,
// the page served by the hub (or, before the hub embeds a build, by Vite's
// preview server in front of it), screenshots at two widths, and axe-core.

import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { expect } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const SCREENSHOTS = join(here, "screenshots");
export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

export async function newPage(
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: DESKTOP,
    acceptDownloads: true,
    locale: "en-GB",
    timezoneId: "UTC",
  });
  const page = await context.newPage();
  // Anything the page logs as an error (a CSP violation, an uncaught
  // exception) fails the test that caused it.
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (
      msg.type() === "error" &&
      !/Failed to load resource|WebSocket connection to/.test(msg.text())
    ) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  return { context, page, problems };
}

/**
 * Saves `<name>-1280.png` and `<name>-390.png` (whole pages) and
 * `<name>-390-top.png` (the phone's first screen), then restores the desktop size.
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await settle(page);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await settle(page);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
  // The first screenful alone, which is what a phone user sees first.
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-390-top.png`) });
  await page.setViewportSize(DESKTOP);
  await settle(page);
}

/** Two animation frames: layout and charts have reacted to a resize. */
async function settle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))),
  );
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core on the page; fails on any serious or critical violation. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  const has = await page.evaluate(() => "axe" in window);
  if (!has) {
    // The page's CSP forbids inline scripts, which is what addScriptTag
    // inserts; DevTools evaluation is not subject to it.
    await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
  }
  const violations = (await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(ctx: Document): Promise<{ violations: unknown[] }> } }
    ).axe;
    const result = await axe.run(document);
    return result.violations;
  })) as AxeViolation[];
  const bad = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
    );
  expect(bad, `axe on ${screen}`).toEqual([]);
}
