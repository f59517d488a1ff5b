/**
 * Pure logic of the webhook screens: merging live delivery frames into the
 * log, and the words the screens use for statuses, outcomes and formats.
 */
import type {
  DeliveryAttempt,
  DeliveryLog,
  DeliveryStatus,
  HubClientEvents,
  Webhook,
} from "@aiclone/hub-client";

export type DeliveryFrame = HubClientEvents["delivery"];

/** The status filter of the log: one delivery state, or every delivery (""). */
export type StatusFilter = "" | DeliveryStatus;

export const STATUS_FILTERS: { value: StatusFilter; label: string }[] = [
  { value: "", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "succeeded", label: "Succeeded" },
  { value: "failed", label: "Failed" },
];

export const DELIVERY_STATUS_WORDS: Record<DeliveryStatus, string> = {
  pending: "Pending",
  succeeded: "Succeeded",
  failed: "Failed",
};

export type WebhookFormat = NonNullable<Webhook["format"]>;

/** The body format of an endpoint (`standard` when the hub does not say). */
export function webhookFormat(webhook: Webhook): WebhookFormat {
  return webhook.format ?? "standard";
}

export const FORMAT_WORDS: Record<WebhookFormat, string> = {
  standard: "Standard Webhooks",
  slack: "Slack",
  discord: "Discord",
};

/** The choices of the format picker, each with what the receiver gets. */
export const FORMAT_CHOICES: { value: WebhookFormat; label: string; hint: string }[] = [
  {
    value: "standard",
    label: "Standard Webhooks (signed JSON)",
    hint: "The signed JSON body of the Standard Webhooks specification, for your own receiver.",
  },
  {
    value: "slack",
    label: "Slack incoming webhook",
    hint: "A Slack message (title, message, an Open button for links, type and time). Paste the Slack webhook URL; Slack does not check signatures, so the URL is the secret.",
  },
  {
    value: "discord",
    label: "Discord webhook",
    hint: "A Discord message with one embed. Paste the Discord webhook URL; Discord does not check signatures, so the URL is the secret.",
  },
];

/** Adds (or replaces, by attempt number) one attempt, keeping them oldest first. */
function withAttempt(
  attempts: readonly DeliveryAttempt[],
  next: DeliveryAttempt,
): DeliveryAttempt[] {
  const rest = attempts.filter((a) => a.attempt !== next.attempt);
  rest.push(next);
  rest.sort((a, b) => a.attempt - b.attempt);
  return rest;
}

/**
 * Applies one live attempt to the log of `webhookId`: the delivery gets the
 * attempt and its new status; an unknown delivery becomes a new row at the
 * top. With a status filter, a delivery that no longer matches leaves the
 * list. Frames of other endpoints change nothing.
 */
export function mergeDelivery(
  log: readonly DeliveryLog[],
  frame: DeliveryFrame,
  webhookId: string,
  filter: StatusFilter,
): DeliveryLog[] {
  if (frame.webhook_id !== webhookId) return log as DeliveryLog[];
  const matches = filter === "" || filter === frame.status;
  const i = log.findIndex((d) => d.id === frame.delivery_id);
  if (i < 0) {
    if (!matches) return log as DeliveryLog[];
    const row: DeliveryLog = {
      id: frame.delivery_id,
      event_type: frame.event_type,
      status: frame.status,
      attempt_count: frame.attempt.attempt,
      next_attempt_at: frame.attempt.next_attempt_at ?? null,
      created_at: frame.attempt.attempted_at,
      updated_at: frame.attempt.attempted_at,
      // The frame does not carry the body; a reload of the log shows it.
      body: "",
      attempts: [frame.attempt],
    };
    return [row, ...log];
  }
  if (!matches) return log.filter((_, j) => j !== i);
  const current = log[i] as DeliveryLog;
  const attempts = withAttempt(current.attempts, frame.attempt);
  const latest = attempts[attempts.length - 1] as DeliveryAttempt;
  // A frame older than what the row already shows (it crossed a REST page)
  // adds its attempt but does not roll the status back.
  const newest = latest.attempt === frame.attempt.attempt;
  const updated: DeliveryLog = {
    ...current,
    attempts,
    attempt_count: Math.max(current.attempt_count, frame.attempt.attempt),
    status: newest ? frame.status : current.status,
    next_attempt_at: newest ? (frame.attempt.next_attempt_at ?? null) : current.next_attempt_at,
    updated_at: newest ? frame.attempt.attempted_at : current.updated_at,
  };
  const copy = [...log];
  copy[i] = updated;
  return copy;
}

/**
 * A manual retry was accepted: the row goes back to pending, unless an attempt
 * newer than the ones it had when the retry was asked for has already arrived
 * (the hub may deliver, and its frame overtake the retry's own answer).
 */
export function markRetried(
  log: readonly DeliveryLog[],
  id: string,
  attemptsBefore: number,
  nextAttemptAt: string | null,
): DeliveryLog[] {
  return log.map((d) =>
    d.id === id && d.attempt_count <= attemptsBefore
      ? { ...d, status: "pending", next_attempt_at: nextAttemptAt }
      : d,
  );
}

/** "200 OK"-style outcome of one attempt: the status code, or the error in words. */
export function attemptOutcome(attempt: DeliveryAttempt): string {
  if (attempt.status_code !== null && attempt.status_code !== undefined) {
    return `HTTP ${attempt.status_code}`;
  }
  return attempt.error ? attempt.error : "No answer";
}

export function attemptSucceeded(attempt: DeliveryAttempt): boolean {
  const code = attempt.status_code;
  return code !== null && code !== undefined && code >= 200 && code < 300;
}

export function lastAttempt(delivery: DeliveryLog): DeliveryAttempt | null {
  return delivery.attempts[delivery.attempts.length - 1] ?? null;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** The URL without its scheme, for a compact list; the full URL stays in the title. */
export function shortUrl(url: string): string {
  return url.replace(/^https?:\/\//, "");
}

/** The field errors of a 422 that belong to the URL, and those of the event list. */
export function fieldMessage(
  fields: readonly { field: string; message: string }[],
  name: "url" | "events" | "description",
): string | null {
  const hits = fields.filter((f) =>
    name === "events" ? f.field === "events" || f.field.startsWith("events[") : f.field === name,
  );
  if (hits.length === 0) return null;
  return hits
    .map((f) =>
      sentence(
        /^(must|is |cannot)/.test(f.message) ? `The ${label(name)} ${f.message}` : f.message,
      ),
    )
    .join(" ");
}

function label(name: "url" | "events" | "description"): string {
  return name === "url" ? "URL" : name;
}

/** "must be http or https" → "Must be http or https." */
function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

const instant = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A date with the time to the second: attempts can be seconds apart. */
export function formatInstant(iso: string): string {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? iso : instant.format(then);
}
