import { useEffect, useRef } from "react";
import type { Webhook } from "@aiclone/hub-client";
import { activityLabel } from "../lib/activityTypes";
import { formatDateTime, formatRelative } from "../lib/format";
import { useNow } from "../lib/useNow";
import { FORMAT_WORDS, shortUrl, webhookFormat } from "./model";

export function StatusBadge({ webhook }: { webhook: Webhook }) {
  return webhook.status === "active" ? (
    <span className="badge wh-status wh-status-active">Active</span>
  ) : (
    <span className="badge wh-status wh-status-disabled">Disabled</span>
  );
}

export function eventsSummary(webhook: Webhook): string {
  if (webhook.events.length === 0) return "All activity types";
  return webhook.events.map(activityLabel).join(", ");
}

export function LastDelivery({ webhook, now }: { webhook: Webhook; now: number }) {
  if (!webhook.last_delivery_at) return <span className="muted">No deliveries yet</span>;
  const code = webhook.last_status_code;
  const ok = code !== null && code !== undefined && code >= 200 && code < 300;
  return (
    <span>
      <time dateTime={webhook.last_delivery_at} title={formatDateTime(webhook.last_delivery_at)}>
        {formatRelative(webhook.last_delivery_at, now)}
      </time>
      {" · "}
      <span className={ok ? "wh-ok" : "wh-bad"}>
        {code !== null && code !== undefined ? `HTTP ${code}` : "no answer"}
      </span>
    </span>
  );
}

/** Every endpoint as one row: where, status, format, events, last delivery, failures. */
export function EndpointList({
  items,
  onOpen,
  focusId = null,
}: {
  items: readonly Webhook[];
  onOpen(id: string): void;
  /** The endpoint whose open button gets the focus (coming back from its detail). */
  focusId?: string | null;
}) {
  const now = useNow(30_000);
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (!focusId) return;
    list.current
      ?.querySelector<HTMLButtonElement>(`[data-webhook-id="${CSS.escape(focusId)}"] .wh-open`)
      ?.focus();
  }, [focusId]);
  return (
    <ul className="wh-list" aria-label="Endpoints" ref={list}>
      {items.map((w) => (
        <li key={w.id} className="wh-row" data-webhook-id={w.id}>
          <div className="wh-row-main">
            <button
              type="button"
              className="wh-open"
              onClick={() => onOpen(w.id)}
              title={w.url}
              aria-label={`Open ${shortUrl(w.url)}`}
            >
              {shortUrl(w.url)}
            </button>
            {w.description ? <p className="wh-desc">{w.description}</p> : null}
            <p className="wh-events-line">{eventsSummary(w)}</p>
          </div>
          <dl className="wh-facts">
            <div>
              <dt>Status</dt>
              <dd>
                <StatusBadge webhook={w} />
              </dd>
            </div>
            <div>
              <dt>Format</dt>
              <dd>
                <span className="badge" title={FORMAT_WORDS[webhookFormat(w)]}>
                  {webhookFormat(w)}
                </span>
              </dd>
            </div>
            <div>
              <dt>Last delivery</dt>
              <dd>
                <LastDelivery webhook={w} now={now} />
              </dd>
            </div>
            <div>
              <dt>Failures</dt>
              <dd className={w.consecutive_failures > 0 ? "wh-bad" : undefined}>
                {w.consecutive_failures}
              </dd>
            </div>
          </dl>
        </li>
      ))}
    </ul>
  );
}
