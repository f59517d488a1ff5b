import { useState } from "react";
import type { DeliveryAttempt, DeliveryLog as Delivery } from "@aiclone/hub-client";
import { useHubApi } from "@aiclone/hub-client/react";
import { toProblem } from "../hub/errors";
import { formatDateTime, formatRelative } from "../lib/format";
import { useNow } from "../lib/useNow";
import {
  DELIVERY_STATUS_WORDS,
  STATUS_FILTERS,
  attemptOutcome,
  attemptSucceeded,
  formatInstant,
  formatMs,
  lastAttempt,
  type StatusFilter,
} from "./model";
import type { DeliveryLogState } from "./useDeliveries";

export interface DeliveryLogProps {
  webhookId: string;
  log: DeliveryLogState;
  filter: StatusFilter;
  onFilterChange(filter: StatusFilter): void;
  readOnly: boolean;
  /** A disabled endpoint refuses retries until it is enabled again. */
  endpointDisabled: boolean;
}

/** The delivery log: a status filter, newest first, each delivery with every attempt. */
export function DeliveryLogView(props: DeliveryLogProps) {
  const { webhookId, log, filter, onFilterChange, readOnly, endpointDisabled } = props;
  const now = useNow(10_000);
  return (
    <section className="wh-section" aria-labelledby={`log-${webhookId}`}>
      <div className="wh-section-head">
        <h3 id={`log-${webhookId}`}>Delivery log</h3>
        <div className="seg" role="group" aria-label="Show deliveries">
          {STATUS_FILTERS.map((f) => (
            <button
              key={f.value}
              type="button"
              aria-pressed={filter === f.value}
              onClick={() => onFilterChange(f.value)}
            >
              {f.label}
            </button>
          ))}
        </div>
      </div>
      <p className="muted wh-help">New attempts appear here as they happen.</p>
      {log.error ? (
        <p className="alert alert-error" role="alert">
          {log.error}
        </p>
      ) : null}
      <div aria-busy={log.loading}>
        {log.loading && log.items.length === 0 ? (
          <div className="empty-state">
            <span className="spinner" aria-hidden="true" /> Loading deliveries…
          </div>
        ) : log.items.length === 0 && !log.error ? (
          <div className="empty-state">
            <strong>{filter ? `No ${filter} deliveries` : "No deliveries yet"}</strong>
            Send a test event, or publish an activity this endpoint receives.
          </div>
        ) : (
          <ol className="dl-list" aria-label="Deliveries, newest first">
            {log.items.map((d) => (
              <DeliveryRow
                key={d.id}
                webhookId={webhookId}
                delivery={d}
                now={now}
                readOnly={readOnly}
                endpointDisabled={endpointDisabled}
                onRetried={log.markPending}
              />
            ))}
          </ol>
        )}
        {log.hasMore ? (
          <div className="load-more">
            <button type="button" className="btn" onClick={log.loadMore} disabled={log.loadingMore}>
              {log.loadingMore ? "Loading…" : "Older deliveries"}
            </button>
          </div>
        ) : null}
      </div>
    </section>
  );
}

function DeliveryRow({
  webhookId,
  delivery,
  now,
  readOnly,
  endpointDisabled,
  onRetried,
}: {
  webhookId: string;
  delivery: Delivery;
  now: number;
  readOnly: boolean;
  endpointDisabled: boolean;
  onRetried(id: string, attemptsBefore: number, nextAttemptAt: string | null): void;
}) {
  const api = useHubApi();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const latest = lastAttempt(delivery);
  const attemptsId = `attempts-${delivery.id}`;

  const retry = async () => {
    setBusy(true);
    setError(null);
    const attemptsBefore = delivery.attempt_count;
    try {
      const queued = await api.retryDelivery(webhookId, delivery.id);
      onRetried(delivery.id, attemptsBefore, queued.next_attempt_at ?? null);
    } catch (err) {
      const p = toProblem(err);
      setError(p.code === "webhook_disabled" ? "Enable the endpoint before retrying." : p.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li
      className={`dl-item dl-${delivery.status}`}
      data-delivery-id={delivery.id}
      data-status={delivery.status}
      data-attempts={delivery.attempt_count}
    >
      <div className="dl-summary">
        <span className={`badge dl-status dl-status-${delivery.status}`}>
          {DELIVERY_STATUS_WORDS[delivery.status]}
        </span>
        <span className="dl-event">{delivery.event_type}</span>
        <span className="dl-latest">
          {latest ? (
            <>
              <span className={attemptSucceeded(latest) ? "wh-ok" : "wh-bad"}>
                {attemptOutcome(latest)}
              </span>{" "}
              <span className="muted">in {formatMs(latest.duration_ms)}</span>
            </>
          ) : (
            <span className="muted">Not attempted yet</span>
          )}
        </span>
        <span className="dl-when muted">
          <time dateTime={delivery.created_at} title={formatDateTime(delivery.created_at)}>
            {formatRelative(delivery.created_at, now)}
          </time>
        </span>
      </div>
      <div className="dl-meta">
        <code className="dl-id">{delivery.id}</code>
        <span>
          {delivery.attempt_count} {delivery.attempt_count === 1 ? "attempt" : "attempts"}
        </span>
        {delivery.status === "pending" && delivery.next_attempt_at ? (
          <span>
            Next attempt{" "}
            <time dateTime={delivery.next_attempt_at}>
              {formatInstant(delivery.next_attempt_at)}
            </time>
          </span>
        ) : null}
        <span className="dl-buttons">
          <button
            type="button"
            className="btn btn-small btn-ghost"
            aria-expanded={open}
            aria-controls={attemptsId}
            onClick={() => setOpen((o) => !o)}
          >
            {open ? "Hide attempts" : "Show attempts"}
          </button>
          {readOnly || delivery.status === "pending" ? null : (
            <button
              type="button"
              className="btn btn-small"
              onClick={() => void retry()}
              disabled={busy || endpointDisabled}
              title={endpointDisabled ? "Enable the endpoint first" : undefined}
            >
              {busy ? "Retrying…" : "Retry"}
            </button>
          )}
        </span>
      </div>
      {error ? (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      ) : null}
      <div id={attemptsId} hidden={!open}>
        <ol className="dl-attempts" aria-label="Attempts">
          {delivery.attempts.map((a) => (
            <AttemptItem key={a.attempt} attempt={a} />
          ))}
        </ol>
        {delivery.body ? (
          <details className="dl-body">
            <summary>Body sent</summary>
            <pre tabIndex={0} data-testid="delivery-body">
              {delivery.body}
            </pre>
          </details>
        ) : null}
      </div>
    </li>
  );
}

function AttemptItem({ attempt }: { attempt: DeliveryAttempt }) {
  return (
    <li className="dl-attempt" data-attempt={attempt.attempt}>
      <dl>
        <div>
          <dt>Attempt</dt>
          <dd>#{attempt.attempt}</dd>
        </div>
        <div>
          <dt>Time</dt>
          <dd>
            <time dateTime={attempt.attempted_at}>{formatInstant(attempt.attempted_at)}</time>
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatMs(attempt.duration_ms)}</dd>
        </div>
        <div>
          <dt>
            {attempt.status_code !== null && attempt.status_code !== undefined ? "Status" : "Error"}
          </dt>
          <dd className={attemptSucceeded(attempt) ? "wh-ok" : "wh-bad"}>
            {attemptOutcome(attempt)}
          </dd>
        </div>
        <div>
          <dt>Next attempt</dt>
          <dd>
            {attempt.next_attempt_at ? (
              <time dateTime={attempt.next_attempt_at}>
                {formatInstant(attempt.next_attempt_at)}
              </time>
            ) : (
              "—"
            )}
          </dd>
        </div>
      </dl>
      {attempt.response_body ? (
        <div className="dl-body">
          <span className="field-label">Response (first KiB)</span>
          <pre tabIndex={0}>{attempt.response_body}</pre>
        </div>
      ) : null}
    </li>
  );
}
