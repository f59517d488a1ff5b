// HubClient: the live connection to the hub's WebSocket (`/api/ws`).
//
// A small state machine — disconnected → connecting → connected, plus the
// terminal `unauthorized` — that reconnects for as long as it is wanted,
// resumes from the last event it delivered (so each activity reaches the
// application once and in id order, across reconnects and hub restarts),
// replaces its access token before the hub would close the session for it,
// and notices a hub that stopped answering with its own ping/pong (browsers
// never see WebSocket-level pings).

import { backoff } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { HubError } from "./errors.js";
import { decodeJwt, refreshMargin, tokenExpiry } from "./jwt.js";
import {
  ACTIVITY_TYPES,
  compareIds,
  isEventId,
  type Activity,
  type ActivityType,
  type ClientFrame,
  type ServerFrame,
  type StorageLike,
  type Task,
  type WelcomeFrame,
  type WebhookDeliveryFrame,
} from "./types.js";

/**
 * `unauthorized` is terminal: `getToken` failed for a reason other than the
 * network (the login is gone). The client stays there, without retrying,
 * until `connect()` is called again (after a new login).
 */
export type HubState = "disconnected" | "connecting" | "connected" | "unauthorized";

export interface GetTokenContext {
  /** The hub refused or expired the previous token: do not return it again. */
  forceRefresh: boolean;
}

/** Returns a current access token; called at each connect and before `exp`. */
export type GetToken = (context: GetTokenContext) => string | Promise<string>;

/**
 * A WebSocket constructor: the browser's global, or the `ws` package's in
 * Node. Only the standard surface is used (`onopen`, `onmessage`, `onclose`,
 * `onerror`, `send`, `close`, and `terminate` when it exists).
 */
export type WebSocketConstructor = new (url: string) => object;

/** Close codes the client reports for closes it decided itself. */
export const CLIENT_CLOSE = {
  /** No pong (or any frame) within `pongTimeout` of a ping. */
  HEARTBEAT_TIMEOUT: 4900,
  /** No `welcome` within `connectTimeout` of starting to connect. */
  CONNECT_TIMEOUT: 4901,
  /** The socket could not be created or failed before opening. */
  CONNECT_FAILED: 4902,
} as const;

export interface HubClientOptions {
  /** The hub's HTTP base URL; the WebSocket URL (ws:// or wss://) is derived from it. */
  baseUrl: string;
  /** Supplies access tokens (a session's `getToken`). Either this or `token`. */
  getToken?: GetToken;
  /** A fixed access token (scripts, tests). */
  token?: string;
  /** Where to resume from at the first connect (else what `storage` holds). */
  lastEventId?: string | null;
  /** Keeps `lastEventId` across page reloads (`webStorage(localStorage)`). */
  storage?: StorageLike;
  /** Prefix of the storage keys; the user id is appended. */
  storageKey?: string;
  /** Server-side filter by activity type; `subscribe()` changes it. Empty: all. */
  events?: ActivityType[];
  /** Base of the reconnect backoff (ms). */
  minReconnectDelay?: number;
  /** Cap of the reconnect backoff, and the wait after 4029 or a refused token (ms). */
  maxReconnectDelay?: number;
  /** How long a connection must last before the backoff starts over (ms). */
  stableAfter?: number;
  /** App-level ping period while connected (ms). */
  pingInterval?: number;
  /** How long to wait for an answer to a ping before reconnecting (ms). */
  pongTimeout?: number;
  /** How long a connect may take, up to the `welcome` frame (ms). */
  connectTimeout?: number;
  /** The WebSocket implementation; defaults to `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** fetch for the token probe (defaults to the global). */
  fetch?: typeof fetch;
  /** Source of jitter, [0, 1); tests pass a seeded one. */
  random?: () => number;
}

export interface DisconnectedEvent {
  code: number;
  reason: string;
  willReconnect: boolean;
}

export interface ReconnectingEvent {
  /** Consecutive failures so far (0 after a stable connection). */
  attempt: number;
  /** Wait before the next attempt, ms (Infinity while offline). */
  delay: number;
  /** When it will be tried (epoch ms), or null while offline. */
  at: number | null;
}

export interface HubClientEvents {
  state: { from: HubState; to: HubState };
  connected: WelcomeFrame;
  disconnected: DisconnectedEvent;
  reconnecting: ReconnectingEvent;
  event: Activity;
  task: Task;
  broadcast: Record<string, unknown>;
  /** A webhook delivery attempt was recorded (the frame without its `type`). */
  delivery: Omit<WebhookDeliveryFrame, "type">;
  resumed: { from: string; replayed: number; complete: boolean };
  gap: { from: string };
  subscribed: { events: ActivityType[] };
  error: HubError;
}

export interface HubClientStats {
  /** Frames whose `type` this client does not know (or that are not JSON objects). */
  unknownFrames: number;
  /** Event frames dropped because that id was already delivered. */
  duplicateEvents: number;
  /** Sessions that reached `welcome`. */
  connects: number;
  /** Connection attempts started. */
  attempts: number;
}

/** What a socket looks like from inside (both `ws` and browsers fit). */
interface Socket {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: { message?: string; error?: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate?: () => void;
}

const OPEN = 1;
const MAX_TIMER = 2_147_483_647;

interface Attempt {
  socket: Socket | null;
  token: string;
  welcomed: boolean;
  /** HTTP status of a refused upgrade, when the WebSocket implementation tells. */
  upgradeStatus: number | null;
}

/** The hub's WebSocket URL for an HTTP base URL. Throws TypeError if it is not one. */
export function webSocketUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl ${JSON.stringify(baseUrl)} is not an absolute URL`);
  }
  const schemes: Record<string, string> = {
    "http:": "ws:",
    "https:": "wss:",
    "ws:": "ws:",
    "wss:": "wss:",
  };
  const scheme = schemes[url.protocol];
  if (!scheme) {
    throw new TypeError(`baseUrl must be http(s) or ws(s), not ${url.protocol}`);
  }
  const ws = new URL(url.href);
  ws.protocol = scheme;
  ws.pathname = `${url.pathname.replace(/\/+$/, "")}/api/ws`;
  ws.search = "";
  ws.hash = "";
  return ws;
}

export class HubClient extends Emitter<HubClientEvents> {
  /** Counters for what the client skipped or retried. */
  readonly stats: HubClientStats = {
    unknownFrames: 0,
    duplicateEvents: 0,
    connects: 0,
    attempts: 0,
  };

  private readonly wsUrl: URL;
  private readonly httpBase: string;
  private readonly getTokenFn: GetToken;
  private readonly WS: WebSocketConstructor;
  private readonly fetchFn: typeof fetch | undefined;
  private readonly random: () => number;
  private readonly storage: StorageLike | undefined;
  private readonly storageKey: string;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly stableAfter: number;
  private readonly pingInterval: number;
  private readonly pongTimeout: number;
  private readonly connectTimeout: number;

  private _state: HubState = "disconnected";
  private _lastEventId: string | null;
  private explicitLastEventId: boolean;
  private events: ActivityType[];
  private welcome: WelcomeFrame | null = null;
  /** True between connect() and disconnect() (or the unauthorized state). */
  private wanted = false;
  /** Consecutive failures; the backoff exponent. */
  private failures = 0;
  /** Consecutive closes before `welcome`, for the token probe. */
  private failedOpens = 0;
  private forceRefreshNext = false;
  /** The user the current `lastEventId` belongs to (the token's `sub`). */
  private userId: string | null | undefined = undefined;
  private current: Attempt | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private waitingOnline = false;
  private _nextReconnectAt: number | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private stableTimer: ReturnType<typeof setTimeout> | null = null;
  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private detachBrowser: (() => void) | null = null;

  constructor(options: HubClientOptions) {
    super();
    this.wsUrl = webSocketUrl(options.baseUrl);
    this.httpBase = options.baseUrl.replace(/\/+$/, "");
    if (options.getToken) {
      this.getTokenFn = options.getToken;
    } else if (typeof options.token === "string") {
      const token = options.token;
      this.getTokenFn = () => token;
    } else {
      throw new TypeError("HubClient needs getToken or token");
    }
    const WS =
      options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ??
      undefined;
    if (!WS) {
      throw new TypeError(
        "No WebSocket implementation: pass one (the `ws` package in Node) as options.WebSocket",
      );
    }
    this.WS = WS;
    this.fetchFn = options.fetch ?? (typeof fetch === "function" ? fetch : undefined);
    this.random = options.random ?? Math.random;
    this.storage = options.storage;
    this.storageKey = options.storageKey ?? "aiclone-hub:last_event_id";
    this.minDelay = positive(options.minReconnectDelay, 500);
    this.maxDelay = Math.max(this.minDelay, positive(options.maxReconnectDelay, 20_000));
    this.stableAfter = positive(options.stableAfter, 10_000);
    this.pingInterval = positive(options.pingInterval, 15_000);
    this.pongTimeout = positive(options.pongTimeout, 10_000);
    this.connectTimeout = positive(options.connectTimeout, 15_000);
    this.events = checkEvents(options.events ?? []);
    const initial = options.lastEventId ?? null;
    this._lastEventId = isEventId(initial) ? initial : null;
    this.explicitLastEventId = isEventId(initial);
  }

  /** The connection's state. */
  get state(): HubState {
    return this._state;
  }

  /** The id of the last activity delivered (where a reconnect resumes from). */
  get lastEventId(): string | null {
    return this._lastEventId;
  }

  /** The `welcome` of the current session, while connected. */
  get session(): WelcomeFrame | null {
    return this._state === "connected" ? this.welcome : null;
  }

  /** When the next reconnect attempt is due (epoch ms), or null. */
  get nextReconnectAt(): number | null {
    return this._nextReconnectAt;
  }

  /** The activity types this client asks for (empty: all). */
  get subscription(): readonly ActivityType[] {
    return this.events;
  }

  /** Starts connecting (or, while waiting to retry, retries now). */
  connect(): void {
    this.wanted = true;
    this.attachBrowser();
    if (this._state === "disconnected" || this._state === "unauthorized") {
      this.setState("connecting");
      void this.open();
      return;
    }
    if (this._state === "connecting" && !this.current) {
      // Waiting in a backoff: the caller wants it now.
      void this.open();
    }
  }

  /** Closes the connection and stops reconnecting. */
  disconnect(): void {
    const wasConnected = this._state !== "disconnected" && this._state !== "unauthorized";
    this.wanted = false;
    this.detachBrowser?.();
    this.detachBrowser = null;
    this.clearReconnect();
    const attempt = this.current;
    this.current = null;
    this.clearSessionTimers();
    if (attempt?.socket) {
      detach(attempt.socket);
      try {
        attempt.socket.close(1000, "client disconnect");
      } catch {
        // Closing a socket that never opened can throw in some implementations.
      }
    }
    this.rejectReady(new HubError({ code: "disconnected", message: "disconnect() was called" }));
    if (this._state !== "unauthorized") this.setState("disconnected");
    if (wasConnected) {
      this.emit("disconnected", { code: 1000, reason: "client disconnect", willReconnect: false });
    }
  }

  /**
   * Resolves once connected (at once if it is). Rejects when the client is
   * not trying to connect, on disconnect(), on the `unauthorized` state, or
   * after `timeoutMs`.
   */
  ready(timeoutMs?: number): Promise<void> {
    if (this._state === "connected") return Promise.resolve();
    if (!this.wanted) {
      return Promise.reject(
        new HubError({
          code: this._state === "unauthorized" ? "unauthorized" : "disconnected",
          message: "The client is not connecting; call connect() first.",
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const waiter = {
        resolve: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      };
      this.readyWaiters.push(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
          reject(
            new HubError({ code: "timeout", message: `not connected within ${timeoutMs} ms` }),
          );
        }, timeoutMs);
      }
    });
  }

  /**
   * Changes which activity types this session receives (empty: all). Applies
   * at once when connected and to every later connect.
   */
  subscribe(events: ActivityType[]): void {
    this.events = checkEvents(events);
    if (this._state === "connected") this.send({ type: "subscribe", events: this.events });
  }

  // ---- connecting -------------------------------------------------------

  private async open(): Promise<void> {
    this.clearReconnect();
    const attempt: Attempt = { socket: null, token: "", welcomed: false, upgradeStatus: null };
    this.current = attempt;
    this.stats.attempts += 1;
    const force = this.forceRefreshNext;
    let token: string;
    try {
      token = await this.getTokenFn({ forceRefresh: force });
      if (typeof token !== "string" || token === "") {
        throw new TypeError("getToken returned no token");
      }
    } catch (err) {
      if (this.current !== attempt) return;
      this.current = null;
      if (err instanceof HubError && err.transient) {
        // The hub (or the network) is down, not the login: try again later.
        this.emit("error", err);
        this.afterFailure(CLIENT_CLOSE.CONNECT_FAILED, "token unavailable", false);
        return;
      }
      this.becomeUnauthorized(err);
      return;
    }
    if (this.current !== attempt || !this.wanted) return;
    this.forceRefreshNext = false;
    attempt.token = token;
    this.adoptUser(token);

    const url = new URL(this.wsUrl.href);
    url.searchParams.set("token", token);
    if (this._lastEventId) url.searchParams.set("last_event_id", this._lastEventId);
    if (this.events.length > 0) url.searchParams.set("events", this.events.join(","));

    let socket: Socket;
    try {
      socket = new this.WS(url.href) as unknown as Socket;
    } catch (err) {
      this.current = null;
      this.emit(
        "error",
        new HubError({ code: "connect_failed", message: errorMessage(err), cause: err }),
      );
      this.afterFailure(CLIENT_CLOSE.CONNECT_FAILED, "socket could not be created", false);
      return;
    }
    attempt.socket = socket;
    this.connectTimer = setTimeout(() => {
      if (this.current === attempt && !attempt.welcomed) {
        this.abandon(attempt, CLIENT_CLOSE.CONNECT_TIMEOUT, "connect timeout");
      }
    }, this.connectTimeout);

    socket.onerror = (event) => {
      if (this.current !== attempt) return;
      // `ws` says why an upgrade failed ("Unexpected server response: 401");
      // browsers never tell, which is what the token probe is for.
      const match = /Unexpected server response: (\d{3})/.exec(event?.message ?? "");
      if (match?.[1]) attempt.upgradeStatus = Number(match[1]);
    };
    socket.onmessage = (event) => {
      if (this.current !== attempt) return;
      this.onFrame(attempt, event.data);
    };
    socket.onclose = (event) => {
      if (this.current !== attempt) return;
      this.onClosed(attempt, event.code, event.reason ?? "");
    };
  }

  /** Gives up on an attempt without waiting for its socket to close. */
  private abandon(attempt: Attempt, code: number, reason: string): void {
    const socket = attempt.socket;
    if (socket) {
      detach(socket);
      try {
        // A frozen peer never completes a closing handshake: drop the TCP
        // connection when the implementation can (ws), else start closing.
        if (typeof socket.terminate === "function") socket.terminate();
        else socket.close(code, reason);
      } catch {
        // Already closed.
      }
    }
    this.onClosed(attempt, code, reason);
  }

  private onClosed(attempt: Attempt, code: number, reason: string): void {
    if (this.current !== attempt) return;
    this.current = null;
    if (attempt.socket) detach(attempt.socket);
    this.clearSessionTimers();
    const wasConnected = attempt.welcomed;
    if (!this.wanted) return;
    if (wasConnected) {
      this.welcome = null;
      this.setState("connecting");
    }
    if (!wasConnected) this.failedOpens += 1;
    void this.planReconnect(attempt, code, reason, wasConnected);
  }

  private async planReconnect(
    attempt: Attempt,
    code: number,
    reason: string,
    wasConnected: boolean,
  ): Promise<void> {
    this.emit("disconnected", { code, reason, willReconnect: true });
    let status = attempt.upgradeStatus;
    if (!wasConnected && status === null && this.failedOpens >= 2 && code !== 4029) {
      status = await this.probeToken(attempt.token);
      if (!this.wanted || this.current || this._state !== "connecting") return;
    }
    if (status !== null && status >= 400 && status < 500) {
      // The hub refused the upgrade itself (401: the token; 403: the
      // origin; 422: the query): retrying quickly cannot help.
      if (status === 401) this.forceRefreshNext = true;
      this.emit(
        "error",
        new HubError({
          status,
          code: status === 401 ? "unauthenticated" : "upgrade_refused",
          message: `The hub refused the WebSocket upgrade with HTTP ${status}`,
        }),
      );
      this.schedule(this.maxDelay + this.random() * this.minDelay);
      return;
    }
    switch (code) {
      case 4029:
        // Too many sessions for this user: wait the longest, do not loop.
        this.schedule(this.maxDelay + this.random() * this.minDelay);
        return;
      case 4001:
        // The token expired before a refresh reached the hub: get a new one.
        this.forceRefreshNext = true;
        this.scheduleSoon(wasConnected);
        return;
      case 1012:
      case 1001:
      case 4008:
        // The node is restarting or going away, or this client read too
        // slowly: come back soon (jittered), resuming from lastEventId.
        this.scheduleSoon(wasConnected);
        return;
      default:
        this.afterFailure(code, reason, true);
    }
  }

  private scheduleSoon(wasConnected: boolean): void {
    if (wasConnected) {
      this.schedule(this.random() * this.minDelay);
    } else {
      this.schedule(backoff(this.failures, this.minDelay, this.maxDelay, this.random));
      this.failures += 1;
    }
  }

  /** Schedules the next attempt after a failure (the backoff grows). */
  private afterFailure(code: number, reason: string, announced: boolean): void {
    if (!this.wanted) return;
    if (!announced) this.emit("disconnected", { code, reason, willReconnect: true });
    this.schedule(backoff(this.failures, this.minDelay, this.maxDelay, this.random));
    this.failures += 1;
  }

  private schedule(delay: number): void {
    this.clearReconnect();
    if (!this.wanted) return;
    if (isOffline()) {
      // Nothing to reach: wait for the browser's `online` event.
      this.waitingOnline = true;
      this.emit("reconnecting", { attempt: this.failures, delay: Infinity, at: null });
      return;
    }
    const at = Date.now() + delay;
    this._nextReconnectAt = at;
    this.emit("reconnecting", { attempt: this.failures, delay, at });
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = null;
        this._nextReconnectAt = null;
        if (this.wanted && !this.current) void this.open();
      },
      Math.min(delay, MAX_TIMER),
    );
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this._nextReconnectAt = null;
    this.waitingOnline = false;
  }

  /**
   * Tells a refused token from a network failure when the WebSocket
   * implementation cannot (browsers): the status endpoint takes the same
   * token. Returns its HTTP status, or null when the hub cannot be reached.
   */
  private async probeToken(token: string): Promise<number | null> {
    if (!this.fetchFn || !token) return null;
    try {
      const res = await this.fetchFn(`${this.httpBase}/api/ws/status`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(this.connectTimeout),
      });
      await res.body?.cancel();
      return res.status;
    } catch {
      return null;
    }
  }

  private becomeUnauthorized(err: unknown): void {
    this.wanted = false;
    this.clearReconnect();
    this.clearSessionTimers();
    const error =
      err instanceof HubError
        ? new HubError({
            status: err.status,
            code: "unauthorized",
            message: err.message,
            cause: err,
          })
        : new HubError({
            code: "unauthorized",
            message: `getToken failed: ${errorMessage(err)}`,
            cause: err,
          });
    this.setState("unauthorized");
    this.emit("error", error);
    this.emit("disconnected", { code: 4001, reason: "no token", willReconnect: false });
    this.rejectReady(error);
  }

  // ---- frames -----------------------------------------------------------

  private onFrame(attempt: Attempt, data: unknown): void {
    // Anything from the hub proves it is alive.
    if (this.pongTimer) {
      clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
    if (typeof data !== "string") {
      this.stats.unknownFrames += 1;
      return;
    }
    let frame: ServerFrame;
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        this.stats.unknownFrames += 1;
        return;
      }
      frame = parsed as ServerFrame;
    } catch {
      this.stats.unknownFrames += 1;
      return;
    }
    switch (frame.type) {
      case "welcome":
        this.onWelcome(attempt, frame);
        return;
      case "event":
        this.onEvent(frame.id, frame.data);
        return;
      case "task_update":
        this.emit("task", frame.task);
        return;
      case "broadcast":
        this.emit("broadcast", frame.data);
        return;
      case "resumed":
        this.emit("resumed", {
          from: frame.from,
          replayed: frame.replayed,
          complete: frame.complete,
        });
        if (!frame.complete) this.emit("gap", { from: frame.from });
        return;
      case "pong":
        return;
      case "subscribed":
        this.emit("subscribed", { events: frame.events });
        return;
      case "webhook_delivery":
        this.emit("delivery", {
          webhook_id: frame.webhook_id,
          delivery_id: frame.delivery_id,
          event_type: frame.event_type,
          status: frame.status,
          attempt: frame.attempt,
        });
        return;
      case "error":
        this.emit("error", new HubError({ code: frame.code, message: frame.message }));
        return;
      default:
        this.stats.unknownFrames += 1;
    }
  }

  private onWelcome(attempt: Attempt, welcome: WelcomeFrame): void {
    if (attempt.welcomed) return;
    attempt.welcomed = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.welcome = welcome;
    this.failedOpens = 0;
    this.forceRefreshNext = false;
    this.stats.connects += 1;
    this.setState("connected");
    this.emit("connected", welcome);
    this.startHeartbeat(attempt);
    this.scheduleRefresh(attempt);
    this.stableTimer = setTimeout(() => {
      this.failures = 0;
    }, this.stableAfter);
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private onEvent(id: unknown, activity: Activity): void {
    if (!isEventId(id)) {
      this.stats.unknownFrames += 1;
      return;
    }
    if (this._lastEventId !== null && compareIds(id, this._lastEventId) <= 0) {
      this.stats.duplicateEvents += 1;
      return;
    }
    this._lastEventId = id;
    this.persist(id);
    this.emit("event", activity);
  }

  private send(frame: ClientFrame): boolean {
    const socket = this.current?.socket;
    if (!socket || socket.readyState !== OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  // ---- heartbeat and token refresh ---------------------------------------

  private startHeartbeat(attempt: Attempt): void {
    this.pingTimer = setInterval(() => this.ping(attempt), this.pingInterval);
  }

  /** Sends a ping and expects something back within `pongTimeout`. */
  private ping(attempt: Attempt): void {
    if (this.current !== attempt || this.pongTimer) return;
    this.send({ type: "ping", timestamp: Date.now() });
    this.pongTimer = setTimeout(() => {
      this.pongTimer = null;
      if (this.current === attempt) {
        this.abandon(attempt, CLIENT_CLOSE.HEARTBEAT_TIMEOUT, "heartbeat timeout");
      }
    }, this.pongTimeout);
  }

  private scheduleRefresh(attempt: Attempt): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    const exp = tokenExpiry(attempt.token);
    if (exp === null) return;
    const wait = exp - refreshMargin(attempt.token) - Date.now();
    this.refreshTimer = setTimeout(
      () => void this.refresh(attempt, exp),
      Math.min(Math.max(0, wait), MAX_TIMER),
    );
  }

  /** Replaces the session's token with a fresher one (a `refresh` frame). */
  private async refresh(attempt: Attempt, exp: number): Promise<void> {
    this.refreshTimer = null;
    try {
      let token = await this.getTokenFn({ forceRefresh: false });
      if ((tokenExpiry(token) ?? 0) <= exp && this.current === attempt) {
        token = await this.getTokenFn({ forceRefresh: true });
      }
      if (this.current !== attempt || !attempt.welcomed) return;
      const newExp = tokenExpiry(token);
      if (newExp === null || newExp <= exp) {
        // Nothing newer to give: try again halfway to the deadline; if the
        // hub closes with 4001 first, the reconnect asks for a new token.
        const wait = Math.max(250, (exp - Date.now()) / 2);
        this.refreshTimer = setTimeout(() => void this.refresh(attempt, exp), wait);
        return;
      }
      if (this.send({ type: "refresh", token })) {
        attempt.token = token;
        this.scheduleRefresh(attempt);
      }
    } catch (err) {
      if (this.current !== attempt) return;
      this.emit(
        "error",
        err instanceof HubError
          ? err
          : new HubError({ code: "token_refresh_failed", message: errorMessage(err), cause: err }),
      );
      // Keep the session until the hub closes it; retry while there is time.
      const left = exp - Date.now();
      if (left > 500) {
        this.refreshTimer = setTimeout(() => void this.refresh(attempt, exp), left / 2);
      }
    }
  }

  private clearSessionTimers(): void {
    for (const t of [this.connectTimer, this.pongTimer, this.refreshTimer, this.stableTimer]) {
      if (t) clearTimeout(t);
    }
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.connectTimer = this.pongTimer = this.refreshTimer = this.stableTimer = null;
    this.pingTimer = null;
  }

  // ---- resume position --------------------------------------------------

  private storageKeyFor(user: string | null): string {
    return user ? `${this.storageKey}:${user}` : this.storageKey;
  }

  /** Event ids are per user: a token of another user starts from its own position. */
  private adoptUser(token: string): void {
    const sub = decodeJwt(token)?.sub;
    const user = typeof sub === "string" ? sub : null;
    if (user === this.userId) return;
    const first = this.userId === undefined;
    this.userId = user;
    if (first && this.explicitLastEventId) return;
    const stored = this.storage?.get(this.storageKeyFor(user)) ?? null;
    this._lastEventId = isEventId(stored) ? stored : null;
  }

  private persist(id: string): void {
    if (!this.storage) return;
    try {
      this.storage.set(this.storageKeyFor(this.userId ?? null), id);
    } catch {
      // A full or blocked storage costs a longer resume after a reload, nothing more.
    }
  }

  // ---- plumbing ---------------------------------------------------------

  private setState(to: HubState): void {
    const from = this._state;
    if (from === to) return;
    this._state = to;
    this.emit("state", { from, to });
  }

  private rejectReady(err: Error): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.reject(err);
  }

  /**
   * In browsers: `online` and a page becoming visible retry at once instead
   * of waiting out the backoff; `offline` pauses retries (and checks a live
   * connection with a ping, as it may be dead without knowing it).
   */
  private attachBrowser(): void {
    if (this.detachBrowser || typeof window === "undefined") return;
    const target = window as Window;
    const retryNow = () => {
      if (!this.wanted || this.current) return;
      if (this.reconnectTimer || this.waitingOnline) {
        this.failures = 0;
        void this.open();
      }
    };
    const onOnline = () => retryNow();
    const onOffline = () => {
      const attempt = this.current;
      if (attempt?.welcomed) this.ping(attempt);
    };
    const onVisibility = () => {
      if (typeof document !== "undefined" && document.visibilityState === "visible") retryNow();
    };
    target.addEventListener("online", onOnline);
    target.addEventListener("offline", onOffline);
    if (typeof document !== "undefined") {
      document.addEventListener("visibilitychange", onVisibility);
    }
    this.detachBrowser = () => {
      target.removeEventListener("online", onOnline);
      target.removeEventListener("offline", onOffline);
      if (typeof document !== "undefined") {
        document.removeEventListener("visibilitychange", onVisibility);
      }
    };
  }
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
}

function checkEvents(events: readonly string[]): ActivityType[] {
  const out: ActivityType[] = [];
  for (const e of events) {
    if (!(ACTIVITY_TYPES as readonly string[]).includes(e)) {
      throw new TypeError(`${JSON.stringify(e)} is not an activity type`);
    }
    if (!out.includes(e as ActivityType)) out.push(e as ActivityType);
  }
  return out;
}

function detach(socket: Socket): void {
  socket.onopen = socket.onmessage = socket.onclose = null;
  // Keep an error handler: `ws` throws on an 'error' event nobody listens to.
  socket.onerror = () => {};
}

function isOffline(): boolean {
  return (
    typeof window !== "undefined" && typeof navigator !== "undefined" && navigator.onLine === false
  );
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
