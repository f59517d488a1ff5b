import { useId, useRef, useState, type FormEvent } from "react";
import type { CreatedWebhook, Webhook } from "@aiclone/hub-client";
import { useHubApi } from "@aiclone/hub-client/react";
import { toProblem, type FieldProblem } from "../hub/errors";
import { ACTIVITY_TYPES, activityLabel } from "../lib/activityTypes";
import { CopyButton } from "./CopyButton";
import { FORMAT_CHOICES, fieldMessage, webhookFormat, type WebhookFormat } from "./model";

export interface CreateEndpointProps {
  onCreated(webhook: Webhook): void;
  onDone(webhook: Webhook): void;
  onCancel(): void;
}

/**
 * The new-endpoint form: URL (the hub's validation, its refusal of private
 * addresses included, shown in words beside the field), description, the
 * events to receive (none ticked = all) and the body format. On success it
 * shows the signing secret, this once.
 */
export function CreateEndpoint({ onCreated, onDone, onCancel }: CreateEndpointProps) {
  const api = useHubApi();
  const ids = { url: useId(), description: useId(), format: useId(), events: useId() };
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<string[]>([]);
  const [format, setFormat] = useState<WebhookFormat>("standard");
  const [busy, setBusy] = useState(false);
  const [fields, setFields] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const urlRef = useRef<HTMLInputElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields([]);
    try {
      const webhook = await api.createWebhook({
        url: url.trim(),
        events: events as (typeof ACTIVITY_TYPES)[number][],
        ...(description.trim() ? { description: description.trim() } : {}),
        format,
      });
      setCreated(webhook);
      onCreated(webhook);
    } catch (err) {
      const problem = toProblem(err);
      setFields(problem.fields);
      setError(problem.fields.length > 0 ? "Check the fields marked below." : problem.message);
      if (fieldMessage(problem.fields, "url")) urlRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <section className="card wh-panel" aria-labelledby="created-title">
        <h2 id="created-title">Endpoint created</h2>
        {webhookFormat(created) === "standard" ? (
          <p>
            Deliveries to <span className="wh-url">{created.url}</span> are signed with this secret.
            Copy it into your receiver now: it is not shown again here, though you can reveal it
            later from the endpoint.
          </p>
        ) : (
          <p>
            Deliveries to <span className="wh-url">{created.url}</span> are{" "}
            {webhookFormat(created) === "slack" ? "Slack" : "Discord"} messages, which are not
            signed: keep the URL private. The secret below signs only if you switch the endpoint to
            the standard format.
          </p>
        )}
        <div className="secret-row">
          <code className="secret" data-testid="created-secret">
            {created.secret}
          </code>
          <div className="secret-actions">
            <CopyButton text={created.secret} label="Copy secret" />
          </div>
        </div>
        <div className="form-actions">
          <button type="button" className="btn btn-primary" onClick={() => onDone(created)}>
            Done
          </button>
        </div>
      </section>
    );
  }

  const urlError = fieldMessage(fields, "url");
  const eventsError = fieldMessage(fields, "events");
  const descriptionError = fieldMessage(fields, "description");
  const toggle = (type: string) =>
    setEvents((list) => (list.includes(type) ? list.filter((t) => t !== type) : [...list, type]));

  return (
    <section className="card wh-panel" aria-labelledby="create-title">
      <h2 id="create-title">Add an endpoint</h2>
      <form className="wh-form" onSubmit={(e) => void submit(e)} noValidate>
        {error ? (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="field">
          <label htmlFor={ids.url}>Endpoint URL</label>
          <input
            ref={urlRef}
            id={ids.url}
            className="input"
            type="url"
            inputMode="url"
            autoComplete="url"
            placeholder="https://example.com/webhooks/aiclone"
            required
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            aria-invalid={urlError ? true : undefined}
            aria-describedby={`${ids.url}-hint${urlError ? ` ${ids.url}-error` : ""}`}
          />
          <span className="field-hint" id={`${ids.url}-hint`}>
            An http or https address on the public internet. The hub POSTs each event there.
          </span>
          {urlError ? (
            <span className="field-error" id={`${ids.url}-error`} data-testid="url-error">
              {urlError}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor={ids.description}>Description (optional)</label>
          <input
            id={ids.description}
            className="input"
            maxLength={500}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            aria-invalid={descriptionError ? true : undefined}
            aria-describedby={descriptionError ? `${ids.description}-error` : undefined}
          />
          {descriptionError ? (
            <span className="field-error" id={`${ids.description}-error`}>
              {descriptionError}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor={ids.format}>Format</label>
          <select
            id={ids.format}
            className="select"
            value={format}
            onChange={(e) => setFormat(e.target.value as WebhookFormat)}
            aria-describedby={`${ids.format}-hint`}
          >
            {FORMAT_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
          <span className="field-hint" id={`${ids.format}-hint`}>
            {FORMAT_CHOICES.find((c) => c.value === format)?.hint}
          </span>
        </div>
        <fieldset
          className="field wh-events"
          aria-describedby={`${ids.events}-hint${eventsError ? ` ${ids.events}-error` : ""}`}
        >
          <legend className="field-label">Events</legend>
          <span className="field-hint" id={`${ids.events}-hint`}>
            Tick the events to send. Leave all unticked to receive every event type.
          </span>
          <div className="wh-event-grid">
            {ACTIVITY_TYPES.map((type) => (
              <label key={type} className="check">
                <input
                  type="checkbox"
                  name="events"
                  value={type}
                  checked={events.includes(type)}
                  onChange={() => toggle(type)}
                />
                <span>{activityLabel(type)}</span>
              </label>
            ))}
          </div>
          {eventsError ? (
            <span className="field-error" id={`${ids.events}-error`}>
              {eventsError}
            </span>
          ) : null}
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create endpoint"}
          </button>
          <button type="button" className="btn" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
