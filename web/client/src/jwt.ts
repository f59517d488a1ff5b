// Reads the claims of a JWT without checking its signature: the client only
// needs to know when its own access token expires (and whose it is), to
// refresh it in time. The hub does the checking.

export interface TokenClaims {
  sub?: string;
  exp?: number;
  iat?: number;
  [claim: string]: unknown;
}

function base64UrlDecode(part: string): string {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The payload of a JWT, or null when the string is not one. */
export function decodeJwt(token: string): TokenClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const claims: unknown = JSON.parse(base64UrlDecode(parts[1]));
    return claims !== null && typeof claims === "object" ? (claims as TokenClaims) : null;
  } catch {
    return null;
  }
}

/** The token's `exp` in milliseconds since the epoch, or null. */
export function tokenExpiry(token: string): number | null {
  const exp = decodeJwt(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : null;
}

/**
 * How long before `exp` a token should be replaced: a quarter of its
 * lifetime, at most a minute (so a 30-minute token is refreshed a minute
 * early and a 4-second test token one second early).
 */
export function refreshMargin(token: string): number {
  const claims = decodeJwt(token);
  if (typeof claims?.exp !== "number") return 0;
  const lifetime =
    typeof claims.iat === "number" ? (claims.exp - claims.iat) * 1000 : 30 * 60 * 1000;
  return Math.min(60_000, Math.max(0, lifetime / 4));
}
