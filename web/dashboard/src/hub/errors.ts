/**
 * Turns whatever a failed call threw into words a user can act on: a wrong
 * password, a rate limit with its wait, an unreachable hub. Never a raw JSON
 * body or a stack trace.
 */

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  /** HTTP status, or 0 when the hub could not be reached at all. */
  status: number;
  /** The hub's error code (`invalid_credentials`, `rate_limited`, …) or `network`. */
  code: string;
  /** One sentence for the user. */
  message: string;
  /** Seconds to wait before trying again, from `Retry-After`. */
  retryAfter: number | null;
  fields: FieldProblem[];
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
}

function numberOrNull(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return null;
}

function isNetworkError(err: unknown): boolean {
  if (err instanceof TypeError) return true;
  const r = record(err);
  if (!r) return false;
  if (r.name === "AbortError" || r.name === "TimeoutError") return true;
  return r.code === "network_error" || r.code === "network";
}

/** The parts of an error thrown by the hub client (or by us) that we understand. */
export function toProblem(err: unknown): Problem {
  if (isNetworkError(err)) {
    return {
      status: 0,
      code: "network",
      message: "The hub cannot be reached. Check that it is running and your network is up.",
      retryAfter: null,
      fields: [],
    };
  }
  const r = record(err) ?? {};
  const body = record(r.body) ?? record(r.error) ?? {};
  const status = numberOrNull(r.status) ?? numberOrNull(body.status) ?? 500;
  const code = String(r.code ?? body.code ?? "internal");
  const retryAfter = numberOrNull(r.retryAfter) ?? numberOrNull(r.retry_after) ?? null;
  const rawFields = Array.isArray(r.fields)
    ? r.fields
    : Array.isArray(body.fields)
      ? body.fields
      : [];
  const fields: FieldProblem[] = rawFields
    .map(record)
    .filter((f): f is Record<string, unknown> => f !== null)
    .map((f) => ({ field: String(f.field ?? ""), message: String(f.message ?? "") }));
  const serverMessage =
    typeof r.message === "string"
      ? r.message
      : typeof body.message === "string"
        ? body.message
        : "";
  return {
    status,
    code,
    message: wordsFor(status, code, serverMessage, retryAfter),
    retryAfter,
    fields,
  };
}

function wordsFor(
  status: number,
  code: string,
  serverMessage: string,
  retryAfter: number | null,
): string {
  switch (code) {
    case "invalid_credentials":
      return "Wrong e-mail or password.";
    case "email_taken":
      return "An account with this e-mail already exists. Sign in instead.";
    case "rate_limited":
      return retryAfter !== null
        ? `Too many attempts. Try again in ${Math.max(1, Math.ceil(retryAfter))} s.`
        : "Too many attempts. Wait a minute and try again.";
    case "validation_failed":
    case "validation_error":
      return "Some fields need attention.";
  }
  if (status === 429) return wordsFor(status, "rate_limited", serverMessage, retryAfter);
  if (status === 401) return "Your session has ended. Sign in again.";
  if (status === 503) return "The hub is temporarily unavailable. Try again in a moment.";
  if (status >= 500)
    return "The hub hit an internal error. Try again; if it keeps happening, check its logs.";
  if (serverMessage) return serverMessage;
  return "Something went wrong. Try again.";
}
