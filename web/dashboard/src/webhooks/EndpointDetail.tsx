import { useEffect, useRef, useState } from "react";
import type { Webhook, WebhookTestResult } from "@aiclone/hub-client";
import { useHubApi } from "@aiclone/hub-client/react";
import { toProblem } from "../hub/errors";
import { EVENT_TYPES } from "../lib/activityTypes";
import { formatDateTime } from "../lib/format";
import { useNow } from "../lib/useNow";
import { ConfirmDialog } from "./ConfirmDialog";
import { DeliveryLogView } from "./DeliveryLog";
import { EndpointForm } from "./EndpointForm";
import { LastDelivery, StatusBadge, eventsSummary } from "./EndpointList";
import { FORMAT_WORDS, attemptOutcome, formatMs, webhookFormat, type StatusFilter } from "./model";
import { SecretPanel } from "./SecretPanel";
import { useDeliveries } from "./useDeliveries";

export interface EndpointDetailProps {
  webhook: Webhook;
  readOnly: boolean;
  onBack(): void;
  onChanged(webhook: Webhook): void;
  onDeleted(id: string): void;
  /** Ask for the endpoint again (its counters change after a test). */
  onRefresh(id: string): void;
}

function endSentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** One endpoint: its settings (and changing them), secret, test button, delivery log, enable and delete. */
export function EndpointDetail(props: EndpointDetailProps) {
  const { webhook, readOnly, onBack, onChanged, onDeleted, onRefresh } = props;
  const api = useHubApi();
  const now = useNow(30_000);
  const [filter, setFilter] = useState<StatusFilter>("");
  const log = useDeliveries(webhook.id, filter);
  const [busy, setBusy] = useState<"" | "test" | "enable" | "delete">("");
  const [error, setError] = useState<string | null>(null);
  const [test, setTest] = useState<WebhookTestResult | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, [webhook.id]);

  const run = async (what: "test" | "enable", action: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(toProblem(err).message);
    } finally {
      setBusy("");
    }
  };

  const sendTest = () =>
    run("test", async () => {
      const result = await api.testWebhook(webhook.id);
      setTest(result);
      log.apply({
        webhook_id: webhook.id,
        delivery_id: result.delivery_id,
        event_type: result.event_type,
        status: result.succeeded ? "succeeded" : "failed",
        attempt: result.attempt,
      });
      onRefresh(webhook.id);
    });

  const enable = () =>
    run("enable", async () => {
      onChanged(await api.enableWebhook(webhook.id));
    });

  const remove = async () => {
    setBusy("delete");
    try {
      await api.deleteWebhook(webhook.id);
      setConfirmDelete(false);
      onDeleted(webhook.id);
    } catch (err) {
      setConfirmDelete(false);
      setError(`Could not delete the endpoint. ${toProblem(err).message}`);
      setBusy("");
    }
  };

  const format = webhookFormat(webhook);
  if (editing) {
    return (
      <section className="card wh-panel" aria-labelledby={`wh-edit-${webhook.id}`}>
        <h2 id={`wh-edit-${webhook.id}`}>Change the endpoint</h2>
        <EndpointForm
          initial={{
            url: webhook.url,
            description: webhook.description ?? "",
            events: [...webhook.events],
            format,
          }}
          submitLabel="Save changes"
          busyLabel="Saving…"
          onCancel={() => setEditing(false)}
          onSubmit={async (v) => {
            const changed = await api.updateWebhook(webhook.id, {
              url: v.url,
              events: v.events as (typeof EVENT_TYPES)[number][],
              description: v.description ? v.description : null,
              format: v.format,
            });
            setEditing(false);
            setSaved(true);
            onChanged(changed);
          }}
        />
      </section>
    );
  }
  return (
    <section className="card wh-panel wh-detail" aria-labelledby={`wh-title-${webhook.id}`}>
      <button type="button" className="btn btn-small btn-ghost wh-back" onClick={onBack}>
        ← All endpoints
      </button>
      <div className="wh-detail-head">
        <div className="wh-detail-title">
          <h2 id={`wh-title-${webhook.id}`} ref={heading} tabIndex={-1} className="wh-url">
            {webhook.url}
          </h2>
          {webhook.description ? <p className="wh-desc">{webhook.description}</p> : null}
        </div>
        {readOnly ? null : (
          <div className="wh-actions">
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => void sendTest()}
              disabled={busy !== ""}
            >
              {busy === "test" ? "Sending…" : "Send test event"}
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => {
                setSaved(false);
                setEditing(true);
              }}
              disabled={busy !== ""}
            >
              Edit
            </button>
            <button
              type="button"
              className="btn btn-danger-outline"
              onClick={() => setConfirmDelete(true)}
              disabled={busy !== ""}
            >
              Delete
            </button>
          </div>
        )}
      </div>

      {webhook.status === "disabled" ? (
        <div className="alert alert-warning wh-disabled" role="status">
          <div>
            <strong>This endpoint is disabled.</strong>{" "}
            {webhook.disabled_reason ? `Reason: ${endSentence(webhook.disabled_reason)} ` : null}It
            receives no new deliveries until it is enabled again; deliveries still pending go out
            then.
          </div>
          {readOnly ? null : (
            <button
              type="button"
              className="btn btn-small"
              onClick={() => void enable()}
              disabled={busy !== ""}
            >
              {busy === "enable" ? "Enabling…" : "Enable again"}
            </button>
          )}
        </div>
      ) : null}
      {error ? (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      ) : null}
      {saved ? (
        <p className="alert alert-success" role="status">
          Changes saved. The next delivery uses them.
        </p>
      ) : null}
      {test ? (
        <p
          className={`alert ${test.succeeded ? "alert-success" : "alert-error"}`}
          role="status"
          data-testid="test-result"
        >
          {test.succeeded ? "Test event delivered: " : "Test event failed: "}
          {attemptOutcome(test.attempt)} in {formatMs(test.attempt.duration_ms)}.
        </p>
      ) : null}

      <dl className="wh-facts wh-facts-detail">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge webhook={webhook} />
          </dd>
        </div>
        <div>
          <dt>Format</dt>
          <dd>
            <span className="badge" title={FORMAT_WORDS[format]}>
              {format}
            </span>
          </dd>
        </div>
        <div>
          <dt>Events</dt>
          <dd>{eventsSummary(webhook)}</dd>
        </div>
        <div>
          <dt>Last delivery</dt>
          <dd>
            <LastDelivery webhook={webhook} now={now} />
          </dd>
        </div>
        <div>
          <dt>Failures in a row</dt>
          <dd className={webhook.consecutive_failures > 0 ? "wh-bad" : undefined}>
            {webhook.consecutive_failures}
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(webhook.created_at)}</dd>
        </div>
      </dl>

      <SecretPanel webhookId={webhook.id} readOnly={readOnly} signed={format === "standard"} />
      <DeliveryLogView
        webhookId={webhook.id}
        log={log}
        filter={filter}
        onFilterChange={setFilter}
        readOnly={readOnly}
        endpointDisabled={webhook.status === "disabled"}
      />

      {readOnly ? null : (
        <ConfirmDialog
          open={confirmDelete}
          title="Delete this endpoint?"
          confirmLabel="Delete endpoint"
          danger
          busy={busy === "delete"}
          onConfirm={() => void remove()}
          onCancel={() => setConfirmDelete(false)}
        >
          <p>
            <span className="wh-url">{webhook.url}</span> stops receiving deliveries at once, its
            pending deliveries are dropped and its delivery log is deleted. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
