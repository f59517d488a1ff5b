// Test harness for the web side: spawns the real hub binary on a free
// 127.0.0.1 port with its own temporary data dir, waits until it is ready,
// and gives tests what they need to drive it (users, publishing, signals,
// restarts on the same port and data dir, its logs). `startCluster` runs
// several nodes that share the local Redis under a key prefix of their own.
//
// Only Node built-ins are used, so the client's Vitest suites and the
// dashboard's browser tests can both import it. Every child is killed when
// the test process exits, however it exits short of SIGKILL.
//
// The binary is `$HUB_BIN`, else `<repo>/target/debug/aiclone-hub`.

/* global process, fetch, Buffer, setTimeout, clearTimeout, AbortSignal */

import { spawn } from "node:child_process";
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The signing key of every test hub, so tests can forge tokens with it. */
export const TEST_SECRET = "test-secret-test-secret-test-secret-0123";
/** A service key every test hub accepts (configured as its SHA-256). */
export const SERVICE_KEY = "hubk_test-service-key";
/** The password the user helpers give every test user. */
export const PASSWORD = "correct horse battery";
/** The Redis the cluster helpers use. */
export const REDIS_URL = "redis://127.0.0.1:6379";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** How long a hub may take to become ready. */
const READY_DEADLINE_MS = 20_000;

/** Path of the hub binary the harness runs. */
export function hubBinary() {
  return process.env.HUB_BIN || join(REPO, "target", "debug", "aiclone-hub");
}

/** Every live child, killed when this process exits. */
const live = new Set();
function killAll() {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
process.on("exit", killAll);
// A signal's default action ends the process without an "exit" event: kill
// the hubs first, then let the signal do what it would have done (unless
// someone else handles it).
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  const onSignal = () => {
    killAll();
    if (process.listenerCount(sig) === 1) {
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    }
  };
  process.on(sig, onSignal);
}

/**
 * `setpriv --pdeathsig` has the kernel kill a hub whose parent dies without
 * running any handler (SIGKILL, a crash). It execs the hub, so the pid and
 * the signals the tests send stay the hub's own.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/** A free TCP port on 127.0.0.1 (bound to port 0, then released). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(address.port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function eventually(what, check, timeoutMs = 10_000, everyMs = 25) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    }
    await sleep(everyMs);
  }
}

let userCounter = 0;
/** A unique e-mail address for a test user. */
export function uniqueEmail(tag = "user") {
  userCounter += 1;
  return `${tag}-${process.pid}-${Date.now()}-${userCounter}@example.test`;
}

async function json(res) {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

async function expectOk(res, what) {
  const body = await json(res);
  if (!res.ok) {
    throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(body)}`);
  }
  return body;
}

/** One hub process (and its restarts, which reuse its port and data dir). */
export class Hub {
  /** @internal use startHub() */
  constructor({ bin, port, dataDir, env, ownsDataDir, label }) {
    this.bin = bin;
    this.port = port;
    this.dataDir = dataDir;
    this.env = env;
    this.ownsDataDir = ownsDataDir;
    this.label = label;
    this.url = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}/api/ws`;
    this.serviceKey = SERVICE_KEY;
    this.logPath = join(dataDir, `hub-${label}.log`);
    this.child = null;
    this.exited = null;
    this.closed = false;
  }

  /** The pid of the current process, or null when it is not running. */
  get pid() {
    return this.child ? this.child.pid : null;
  }

  /** True while the current process has not exited. */
  get running() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until GET /ready answers 200. */
  async start() {
    if (!existsSync(this.bin)) {
      throw new Error(`the hub binary ${this.bin} does not exist (cargo build, or set HUB_BIN)`);
    }
    const log = openSync(this.logPath, "a");
    const [command, args] = SETPRIV
      ? [SETPRIV, ["--pdeathsig", "SIGKILL", "--", this.bin]]
      : [this.bin, []];
    const child = spawn(command, args, {
      env: this.env,
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolveExit) => {
      child.once("exit", (code, signal) => {
        live.delete(child);
        resolveExit({ code, signal });
      });
    });
    const spawnError = new Promise((_, reject) => child.once("error", reject));
    const end = Date.now() + READY_DEADLINE_MS;
    for (;;) {
      if (!this.running) {
        const { code, signal } = await Promise.race([this.exited, spawnError]);
        throw new Error(
          `the hub exited before it was ready (code ${code}, signal ${signal}):\n${this.logs()}`,
        );
      }
      try {
        const res = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        if (res.status === 200) return this;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > end) {
        throw new Error(`the hub was not ready within ${READY_DEADLINE_MS} ms:\n${this.logs()}`);
      }
      await sleep(50);
    }
  }

  /** Everything the hub wrote to stdout and stderr, over all its restarts. */
  logs() {
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  /** Sends a signal to the current process (no-op when it is not running). */
  signal(name) {
    if (this.running) this.child.kill(name);
  }

  /** Resolves with the exit of the current process. */
  async waitExit(timeoutMs = 15_000) {
    if (!this.child) return { code: null, signal: null };
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("the hub did not exit")), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** kill -9, and wait until the process is gone. */
  async kill9() {
    this.signal("SIGKILL");
    return this.waitExit();
  }

  /** SIGTERM (graceful shutdown: sessions get 1012), and wait for the exit. */
  async sigterm(timeoutMs = 15_000) {
    this.signal("SIGTERM");
    return this.waitExit(timeoutMs);
  }

  /** SIGSTOP: the process freezes; its sockets stay open but nothing answers. */
  stop() {
    this.signal("SIGSTOP");
  }

  /** SIGCONT: resumes a stopped process. */
  cont() {
    this.signal("SIGCONT");
  }

  /**
   * Starts the hub again on the same port and data dir (after kill9/sigterm;
   * a still-running process is killed first). `env` adds or overrides
   * variables for the new process.
   */
  async restart(env = {}) {
    if (this.running) {
      this.cont();
      await this.kill9();
    }
    this.env = { ...this.env, ...env };
    return this.start();
  }

  /** Kills the process (if running) and removes the data dir it created. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    if (this.running) {
      this.cont();
      await this.kill9();
    }
    if (this.ownsDataDir) {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  /** A request to the hub; `auth` is a bearer token, or "service" for the key. */
  request(method, path, { body, auth, headers = {} } = {}) {
    const h = { ...headers };
    if (auth === "service") h["x-api-key"] = this.serviceKey;
    else if (auth) h.authorization = `Bearer ${auth}`;
    if (body !== undefined) h["content-type"] = "application/json";
    return fetch(`${this.url}${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** POST /api/auth/register; returns the user. */
  async register(email = uniqueEmail(), password = PASSWORD, fullName) {
    const body = { email, password };
    if (fullName !== undefined) body.full_name = fullName;
    const res = await this.request("POST", "/api/auth/register", { body });
    return (await expectOk(res, "register")).user;
  }

  /** POST /api/auth/login (JSON); returns the token pair. */
  async login(email, password = PASSWORD) {
    const res = await this.request("POST", "/api/auth/login", { body: { email, password } });
    return expectOk(res, "login");
  }

  /** Registers and logs in a fresh user. */
  async user(tag = "user") {
    const email = uniqueEmail(tag);
    const user = await this.register(email);
    const tokens = await this.login(email);
    return {
      id: user.id,
      email,
      password: PASSWORD,
      user,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
    };
  }

  /** POST /api/activities with the service key on behalf of `userId`. */
  async publish(userId, activity = {}) {
    const body = { type: "notification", title: "test event", ...activity, user_id: userId };
    const res = await this.request("POST", "/api/activities", { body, auth: "service" });
    return expectOk(res, "publish");
  }

  /** POST /api/tasks with the service key on behalf of `userId`. */
  async createTask(userId, task = {}) {
    const body = { kind: "research", title: "test task", ...task, user_id: userId };
    const res = await this.request("POST", "/api/tasks", { body, auth: "service" });
    return expectOk(res, "create task");
  }

  /** PATCH /api/tasks/{id} with the service key. */
  async updateTask(taskId, patch) {
    const res = await this.request("PATCH", `/api/tasks/${encodeURIComponent(taskId)}`, {
      body: patch,
      auth: "service",
    });
    return expectOk(res, "update task");
  }

  /** POST /api/broadcast with the service key. */
  async broadcast(body) {
    const res = await this.request("POST", "/api/broadcast", { body, auth: "service" });
    return expectOk(res, "broadcast");
  }
}

function baseEnv({ port, dataDir, env, redisPrefix }) {
  const keyHash = createHash("sha256").update(SERVICE_KEY).digest("hex");
  const out = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    HUB__SERVER__HOST: "127.0.0.1",
    HUB__SERVER__PORT: String(port),
    HUB__SERVER__WORKERS: "2",
    HUB__STORAGE__DATA_DIR: dataDir,
    HUB__AUTH__JWT_SECRET: TEST_SECRET,
    HUB__AUTH__API_KEYS: `sha256:${keyHash}`,
    HUB__AUTH__MAX_CONCURRENT_HASHES: "2",
    HUB__RATE_LIMIT__ENABLED: "false",
    HUB__WEBHOOKS__ALLOW_PRIVATE_TARGETS: "true",
    HUB__LOG__LEVEL: process.env.HUB_TEST_LOG_LEVEL ?? "info",
  };
  if (redisPrefix !== undefined) {
    out.HUB__REDIS__URL = REDIS_URL;
    out.HUB__REDIS__KEY_PREFIX = redisPrefix;
  }
  return { ...out, ...env };
}

/**
 * Starts one hub. Options: `env` (extra HUB__* variables), `port` (default a
 * free one), `dataDir` (default a new temporary dir, removed by close()),
 * `bin`, `redisPrefix` (set: cluster mode on the local Redis with that prefix).
 */
export async function startHub(options = {}) {
  const port = options.port ?? (await freePort());
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "hub-web-test-"));
  const hub = new Hub({
    bin: options.bin ?? hubBinary(),
    port,
    dataDir,
    ownsDataDir,
    label: options.label ?? String(port),
    env: baseEnv({ port, dataDir, env: options.env ?? {}, redisPrefix: options.redisPrefix }),
  });
  try {
    await hub.start();
  } catch (err) {
    await hub.close();
    throw err;
  }
  return hub;
}

/**
 * An access token for `userId` signed with the test key, valid for
 * `ttlSeconds` (negative: already expired). It is what the hub's login would
 * issue, minus the password hashing that makes a debug build slow.
 */
export function mintAccessToken(userId, ttlSeconds = 1800, claims = {}) {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const header = b64({ alg: "HS256", typ: "JWT" });
  const payload = b64({
    sub: userId,
    iat: now,
    exp: now + ttlSeconds,
    jti: randomUUID().replaceAll("-", ""),
    iss: "aiclone-hub",
    aud: "aiclone-hub",
    typ: "access",
    ...claims,
  });
  const signature = createHmac("sha256", TEST_SECRET)
    .update(`${header}.${payload}`)
    .digest("base64url");
  return `${header}.${payload}.${signature}`;
}

/** A Redis key prefix no other test uses. */
export function uniqueRedisPrefix() {
  return `hubtest:web:${randomBytes(6).toString("hex")}:`;
}

/**
 * Starts `nodes` hubs (default 2) in cluster mode on the local Redis, sharing
 * one key prefix (unique to this call) and the test signing key.
 */
export async function startCluster(options = {}) {
  const prefix = options.redisPrefix ?? uniqueRedisPrefix();
  const count = options.nodes ?? 2;
  const nodes = [];
  try {
    for (let i = 0; i < count; i += 1) {
      nodes.push(await startHub({ env: options.env, redisPrefix: prefix, label: `node${i}` }));
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.close()));
    await deleteRedisKeys(prefix).catch(() => {});
    throw err;
  }
  return {
    nodes,
    prefix,
    async close() {
      await Promise.all(nodes.map((n) => n.close()));
      await deleteRedisKeys(prefix).catch(() => {});
    },
  };
}

/**
 * Deletes every key under `prefix` on the local Redis (SCAN + UNLINK over a
 * minimal RESP connection), so cluster tests leave nothing behind.
 */
export function deleteRedisKeys(prefix) {
  return new Promise((resolveDone, reject) => {
    const socket = netConnect(6379, "127.0.0.1");
    let buffer = Buffer.alloc(0);
    let cursor = "0";
    let pending = null;
    const send = (...args) => {
      let out = `*${args.length}\r\n`;
      for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      socket.write(out);
    };
    // Parses one RESP value from `buffer` at `at`; returns [value, next] or null.
    const parse = (at) => {
      const eol = buffer.indexOf("\r\n", at);
      if (eol < 0) return null;
      const line = buffer.toString("utf8", at + 1, eol);
      const kind = String.fromCharCode(buffer[at]);
      if (kind === "+" || kind === "-" || kind === ":") return [line, eol + 2];
      if (kind === "$") {
        const len = Number(line);
        if (len < 0) return [null, eol + 2];
        if (buffer.length < eol + 2 + len + 2) return null;
        return [buffer.toString("utf8", eol + 2, eol + 2 + len), eol + 4 + len];
      }
      if (kind === "*") {
        const n = Number(line);
        const items = [];
        let next = eol + 2;
        for (let i = 0; i < n; i += 1) {
          const item = parse(next);
          if (!item) return null;
          items.push(item[0]);
          next = item[1];
        }
        return [items, next];
      }
      throw new Error(`unexpected RESP type ${kind}`);
    };
    const scan = () => {
      pending = "scan";
      send("SCAN", cursor, "MATCH", `${prefix}*`, "COUNT", "1000");
    };
    socket.on("connect", scan);
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parse(0);
      if (!parsed) return;
      buffer = buffer.subarray(parsed[1]);
      const [value] = parsed;
      if (pending === "scan") {
        const [next, keys] = value;
        cursor = next;
        if (keys.length > 0) {
          pending = "unlink";
          send("UNLINK", ...keys);
          return;
        }
      }
      if (cursor === "0") {
        socket.end();
        resolveDone();
      } else {
        scan();
      }
    });
  });
}
