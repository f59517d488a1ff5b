/**
 * How the portal page gets its session: the one-time token in the link's
 * fragment (`#token=hub_portal_…`) is removed from the address bar at once
 * (so it is not left in history or copied along), exchanged for a portal
 * session, and the session is kept in sessionStorage, so a reload of the same
 * tab keeps working until it expires. There is no refresh: at expiry the
 * page says that the link has expired.
 */
import { HubApi } from "@aiclone/hub-client";
import { toProblem } from "../hub/errors";

export interface PortalSession {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  userId: string;
  readOnly: boolean;
}

export type PortalOpening =
  | { kind: "ready"; session: PortalSession }
  /** The link was already used, has expired, or was never issued. */
  | { kind: "invalid" }
  /** The session this tab had has ended. */
  | { kind: "expired" }
  /** Opened without a link. */
  | { kind: "missing" }
  | { kind: "unreachable"; message: string };

export const STORAGE_KEY = "aiclone-hub.portal-session";

/** The token of a `#token=…` fragment (other fragment parameters are ignored). */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("token");
  return token && token.trim() ? token.trim() : null;
}

export function parseStored(text: string | null): PortalSession | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as Partial<PortalSession>;
    if (
      typeof v.accessToken === "string" &&
      typeof v.expiresAt === "number" &&
      typeof v.userId === "string" &&
      typeof v.readOnly === "boolean"
    ) {
      return v as PortalSession;
    }
  } catch {
    // Not ours, or damaged: treated as absent.
  }
  return null;
}

export function hubBaseUrl(win: Window): string {
  return win.location.origin;
}

/** Reads the link (or this tab's stored session) and opens the portal session. */
export async function openPortal(win: Window): Promise<PortalOpening> {
  const token = tokenFromHash(win.location.hash);
  if (token) {
    // Out of the address bar before anything else can read or keep it.
    win.history.replaceState(null, "", win.location.pathname + win.location.search);
    try {
      const api = new HubApi({ baseUrl: hubBaseUrl(win) });
      const s = await api.exchangePortalToken(token);
      const session: PortalSession = {
        accessToken: s.access_token,
        expiresAt: Date.parse(s.expires_at),
        userId: s.user_id,
        readOnly: s.read_only,
      };
      win.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
      return { kind: "ready", session };
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status === 401 || problem.status === 422) {
        win.sessionStorage.removeItem(STORAGE_KEY);
        return { kind: "invalid" };
      }
      return { kind: "unreachable", message: problem.message };
    }
  }
  const stored = parseStored(win.sessionStorage.getItem(STORAGE_KEY));
  if (!stored) return { kind: "missing" };
  // An ended session stays stored (its token is useless now), so a reload
  // still says the link has expired; the tab's storage goes with the tab.
  if (stored.expiresAt <= Date.now()) return { kind: "expired" };
  return { kind: "ready", session: stored };
}

/** Marks this tab's session as ended (the hub refused it before its expiry). */
export function endPortal(win: Window): void {
  const stored = parseStored(win.sessionStorage.getItem(STORAGE_KEY));
  if (stored && stored.expiresAt > Date.now()) {
    win.sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ ...stored, expiresAt: Date.now() }));
  }
}
