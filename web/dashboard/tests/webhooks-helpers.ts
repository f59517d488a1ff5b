// What the webhook and portal browser tests share: a real HTTP receiver on
// 127.0.0.1 that records every request byte for byte and answers what the
// test tells it to, the official Standard Webhooks verifier (the Python
// `standardwebhooks` package, through the script the Rust tests use too),
// and signing in through the page.

import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { PASSWORD } from "../../testing/hub.mjs";

export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  /** The exact body bytes, as text. */
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

export interface Receiver {
  url: string;
  requests: Received[];
  /** The status the next requests are answered with (200 at first). */
  status: number;
  /** The body sent back with it. */
  reply: string;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: "",
    requests: [],
    status: 200,
    reply: '{"ok":true}',
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: Received["json"];
      try {
        json = JSON.parse(body) as Received["json"];
      } catch {
        json = { type: "(not JSON)", timestamp: "", data: {} };
      }
      receiver.requests.push({
        at: Date.now(),
        path: req.url ?? "",
        headers: req.headers,
        body,
        json,
      });
      res.writeHead(receiver.status, { "content-type": "application/json" });
      res.end(receiver.reply);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}`;
  receiver.close = () =>
    new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    });
  return receiver;
}

const VERIFIER = fileURLToPath(
  new URL("../../../tests/it/verify_standardwebhooks.py", import.meta.url),
);

/**
 * Runs the official verifier over one captured request with `secret`.
 * Resolves with its exit code (0: verified) and what it printed.
 */
export function verifyWithStandardWebhooks(
  secret: string,
  request: Received,
): Promise<{ code: number | null; output: string }> {
  const headers: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const value = request.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn("python3", [VERIFIER], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(JSON.stringify({ cases: [{ secret, body: request.body, headers }] }));
  });
}

/** Signs in through the page's form (the account exists already). */
export async function signIn(page: Page, url: string, email: string): Promise<void> {
  await page.goto(url);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).last().click();
}
