// Sessions: log in, keep a current access token, rotate the refresh token,
// log out.
//
// `getToken()` returns the access token while it has more than its refresh
// margin left, and otherwise refreshes it. However many callers ask at once
// (the WebSocket, several REST calls, other hooks), one refresh request is in
// flight and all of them get its result: refresh tokens rotate, and a second
// request with an already-spent refresh token would make the hub revoke the
// whole login. With `storage`, the pair survives a page reload; in browsers
// the refresh is also serialised across tabs (Web Locks), and a tab adopts a
// pair another tab has just rotated instead of spending a stale one.

import createClient, { type Client } from "openapi-fetch";
import type { GetTokenContext } from "./client.js";
import { Emitter } from "./emitter.js";
import { errorFromResponse, HubError, networkError } from "./errors.js";
import type { paths } from "./generated/openapi.js";
import { refreshMargin, tokenExpiry } from "./jwt.js";
import type { StorageLike, TokenPair, User } from "./types.js";

export interface SessionOptions {
  baseUrl: string;
  /** With `password`: log in. Without: restore the session kept in `storage`. */
  email?: string;
  password?: string;
  /** Keeps the token pair across reloads (`webStorage(localStorage)`). */
  storage?: StorageLike;
  /** Storage key of the pair. */
  storageKey?: string;
  fetch?: typeof fetch;
}

export interface RegisterOptions {
  baseUrl: string;
  email: string;
  password: string;
  fullName?: string;
  fetch?: typeof fetch;
}

export interface SessionEvents {
  /** A new pair was obtained (login or refresh). */
  tokens: { accessToken: string; expiresAt: number | null };
  /** The session is over: logged out, or the hub refused the refresh token. */
  ended: { reason: "logout" | "refresh_refused"; error?: HubError };
}

interface StoredPair {
  access_token: string;
  refresh_token: string;
}

const DEFAULT_KEY = "aiclone-hub:session";

function api(baseUrl: string, fetchFn?: typeof fetch): Client<paths> {
  try {
    new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl ${JSON.stringify(baseUrl)} is not an absolute URL`);
  }
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    fetch: (request: Request) => (fetchFn ?? globalThis.fetch)(request),
  });
}

async function call<T>(
  baseUrl: string,
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch (err) {
    throw networkError(err, baseUrl);
  }
  if (!result.response.ok) throw errorFromResponse(result.response, result.error);
  return result.data as T;
}

/** Creates an account. Resolves with the user; rejects with a HubError (409 `email_taken`, 422). */
export async function register(options: RegisterOptions): Promise<User> {
  const client = api(options.baseUrl, options.fetch);
  const body: { email: string; password: string; full_name?: string } = {
    email: options.email,
    password: options.password,
  };
  if (options.fullName !== undefined) body.full_name = options.fullName;
  const envelope = await call(options.baseUrl, client.POST("/api/auth/register", { body }));
  return envelope.user;
}

/**
 * Logs in with `email` and `password`, or, without them, restores the pair
 * kept in `storage` (rejecting with a 401 HubError when there is none or the
 * hub no longer accepts it).
 */
export async function createSession(options: SessionOptions): Promise<Session> {
  const session = new Session(options);
  if (options.email !== undefined && options.password !== undefined) {
    await session.login(options.email, options.password);
  } else {
    await session.restore();
  }
  return session;
}

/** Restores the session kept in `storage`, or resolves null when there is none left. */
export async function restoreSession(
  options: Omit<SessionOptions, "email" | "password">,
): Promise<Session | null> {
  try {
    return await createSession({ ...options, email: undefined, password: undefined });
  } catch (err) {
    if (err instanceof HubError && err.status === 401) return null;
    throw err;
  }
}

export class Session extends Emitter<SessionEvents> {
  readonly baseUrl: string;
  private readonly client: Client<paths>;
  private readonly storage: StorageLike | undefined;
  private readonly storageKey: string;
  private accessToken: string | null = null;
  private refreshToken: string | null = null;
  private inflight: Promise<string> | null = null;
  private ended = false;
  /** Refresh requests sent (the single-flight guarantee is observable). */
  refreshCount = 0;

  constructor(options: SessionOptions) {
    super();
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.client = api(options.baseUrl, options.fetch);
    this.storage = options.storage;
    this.storageKey = options.storageKey ?? DEFAULT_KEY;
  }

  /** True until logout or a refused refresh. */
  get active(): boolean {
    return !this.ended && this.refreshToken !== null;
  }

  /** When the current access token expires (epoch ms), or null. */
  get expiresAt(): number | null {
    return this.accessToken ? tokenExpiry(this.accessToken) : null;
  }

  async login(email: string, password: string): Promise<void> {
    const pair = await call(
      this.baseUrl,
      this.client.POST("/api/auth/login", { body: { email, password } }),
    );
    this.ended = false;
    this.adopt(pair);
  }

  /** Loads the stored pair and makes sure it still works (refreshing if needed). */
  async restore(): Promise<void> {
    const stored = this.readStored();
    if (!stored) {
      throw new HubError({
        status: 401,
        code: "no_session",
        message: "No stored session; log in.",
      });
    }
    this.accessToken = stored.access_token;
    this.refreshToken = stored.refresh_token;
    this.ended = false;
    await this.getToken();
  }

  /**
   * A current access token. Refreshes when the token is within its refresh
   * margin of `exp` (or when `forceRefresh`), with one request in flight for
   * every concurrent caller. Rejects with a 401 HubError once the session is
   * over; with a transient HubError (status 0, 5xx) when the hub is
   * unreachable, in which case a later call tries again.
   */
  getToken = (context?: Partial<GetTokenContext>): Promise<string> => {
    if (this.ended || !this.refreshToken) {
      return Promise.reject(
        new HubError({ status: 401, code: "session_ended", message: "The session has ended." }),
      );
    }
    if (this.inflight) return this.inflight;
    if (!context?.forceRefresh && this.accessToken && this.fresh(this.accessToken)) {
      return Promise.resolve(this.accessToken);
    }
    this.inflight = this.refreshOnce().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  };

  /** Revokes this login on the hub and forgets the pair. */
  async logout(): Promise<void> {
    const refreshToken = this.refreshToken;
    this.finish();
    this.emit("ended", { reason: "logout" });
    if (!refreshToken) return;
    try {
      await call(
        this.baseUrl,
        this.client.POST("/api/auth/logout", { body: { refresh_token: refreshToken } }),
      );
    } catch (err) {
      // Already revoked or expired is what logging out wants anyway.
      if (!(err instanceof HubError && err.status === 401)) throw err;
    }
  }

  private fresh(token: string): boolean {
    const exp = tokenExpiry(token);
    return exp === null || exp - refreshMargin(token) > Date.now();
  }

  private async refreshOnce(): Promise<string> {
    const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
    if (locks && this.storage) {
      return locks.request(`${this.storageKey}:refresh`, () => this.refreshShared());
    }
    return this.refreshShared();
  }

  /** Refreshes, unless another tab already did (its pair is then adopted). */
  private async refreshShared(): Promise<string> {
    const stored = this.readStored();
    if (stored && stored.refresh_token !== this.refreshToken && this.fresh(stored.access_token)) {
      this.accessToken = stored.access_token;
      this.refreshToken = stored.refresh_token;
      return stored.access_token;
    }
    const refreshToken = this.refreshToken;
    if (!refreshToken || this.ended) {
      throw new HubError({ status: 401, code: "session_ended", message: "The session has ended." });
    }
    this.refreshCount += 1;
    try {
      const pair = await call(
        this.baseUrl,
        this.client.POST("/api/auth/refresh", { body: { refresh_token: refreshToken } }),
      );
      if (this.ended) {
        throw new HubError({ status: 401, code: "session_ended", message: "Logged out." });
      }
      this.adopt(pair);
      return pair.access_token;
    } catch (err) {
      if (err instanceof HubError && err.status === 401 && !this.ended) {
        this.finish();
        this.emit("ended", { reason: "refresh_refused", error: err });
      }
      throw err;
    }
  }

  private adopt(pair: TokenPair): void {
    this.accessToken = pair.access_token;
    this.refreshToken = pair.refresh_token;
    if (this.storage) {
      const stored: StoredPair = {
        access_token: pair.access_token,
        refresh_token: pair.refresh_token,
      };
      try {
        this.storage.set(this.storageKey, JSON.stringify(stored));
      } catch {
        // Without storage the session still works; it just will not survive a reload.
      }
    }
    this.emit("tokens", {
      accessToken: pair.access_token,
      expiresAt: tokenExpiry(pair.access_token),
    });
  }

  private finish(): void {
    this.ended = true;
    this.accessToken = null;
    this.refreshToken = null;
    try {
      if (this.storage?.remove) this.storage.remove(this.storageKey);
      else this.storage?.set(this.storageKey, "");
    } catch {
      // Nothing else to do.
    }
  }

  private readStored(): StoredPair | null {
    const raw = this.storage?.get(this.storageKey);
    if (!raw) return null;
    try {
      const value = JSON.parse(raw) as Partial<StoredPair>;
      if (typeof value.access_token === "string" && typeof value.refresh_token === "string") {
        return { access_token: value.access_token, refresh_token: value.refresh_token };
      }
    } catch {
      // A corrupt entry is no session.
    }
    return null;
  }
}
