// One error type for everything the hub (or the way to it) can answer: REST
// error bodies, WebSocket `error` frames, failed connects and refreshes.

import type { FieldError } from "./types.js";

export interface HubErrorInit {
  status?: number;
  code: string;
  message: string;
  fields?: FieldError[];
  retryAfter?: number | null;
  requestId?: string | null;
  cause?: unknown;
}

export class HubError extends Error {
  /** The HTTP status; 0 when there was no HTTP answer (network, WebSocket frame). */
  readonly status: number;
  /** The hub's snake_case code (`invalid_credentials`, `validation_failed`, …) or the client's. */
  readonly code: string;
  /** Per-field messages of a validation error. */
  readonly fields: FieldError[];
  /** Seconds to wait before retrying, from `Retry-After` (429, 503), else null. */
  readonly retryAfter: number | null;
  /** The `X-Request-Id` of the response, to find it in the hub's logs. */
  readonly requestId: string | null;

  constructor(init: HubErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "HubError";
    this.status = init.status ?? 0;
    this.code = init.code;
    this.fields = init.fields ?? [];
    this.retryAfter = init.retryAfter ?? null;
    this.requestId = init.requestId ?? null;
  }

  /**
   * True when trying again later may succeed: no answer at all, a rate
   * limit, or the hub (or its store) being unavailable.
   */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** Parses `Retry-After` (seconds or an HTTP date) into seconds. */
export function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Builds a HubError from an HTTP error response and its (parsed) body. */
export function errorFromResponse(response: Response, body: unknown): HubError {
  const b = (body !== null && typeof body === "object" ? body : {}) as Partial<{
    code: unknown;
    message: unknown;
    fields: unknown;
  }>;
  return new HubError({
    status: response.status,
    code: typeof b.code === "string" ? b.code : `http_${response.status}`,
    message:
      typeof b.message === "string"
        ? b.message
        : `The hub answered ${response.status} ${response.statusText}`.trim(),
    fields: Array.isArray(b.fields) ? (b.fields as FieldError[]) : [],
    retryAfter: parseRetryAfter(response.headers.get("retry-after")),
    requestId: response.headers.get("x-request-id"),
  });
}

/** Wraps a failed `fetch` (no HTTP answer) as a HubError with status 0. */
export function networkError(cause: unknown, url?: string): HubError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new HubError({
    status: 0,
    code: "network_error",
    message: `Could not reach the hub${url ? ` at ${url}` : ""}: ${detail}`,
    cause,
  });
}
