import { useId, useRef, useState, type FormEvent } from "react";
import { toProblem, type FieldProblem } from "../hub/errors";
import { EVENT_TYPES, activityLabel } from "../lib/activityTypes";
import { FORMAT_CHOICES, fieldMessage, type WebhookFormat } from "./model";

/** What the endpoint form edits. */
export interface EndpointValues {
  url: string;
  description: string;
  /** None ticked means every event type. */
  events: string[];
  format: WebhookFormat;
}

export interface EndpointFormProps {
  initial: EndpointValues;
  submitLabel: string;
  busyLabel: string;
  /** Saves the values; throws what the hub answered when it refuses them. */
  onSubmit(values: EndpointValues): Promise<void>;
  onCancel(): void;
}

/**
 * The endpoint fields, for a new endpoint and for changing one: URL (the
 * hub's validation, its refusal of private addresses included, shown in
 * words beside the field), description, the body format and the events to
 * receive (none ticked = all).
 */
export function EndpointForm({
  initial,
  submitLabel,
  busyLabel,
  onSubmit,
  onCancel,
}: EndpointFormProps) {
  const ids = { url: useId(), description: useId(), format: useId(), events: useId() };
  const [url, setUrl] = useState(initial.url);
  const [description, setDescription] = useState(initial.description);
  const [events, setEvents] = useState<string[]>(initial.events);
  const [format, setFormat] = useState<WebhookFormat>(initial.format);
  const [busy, setBusy] = useState(false);
  const [fields, setFields] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const urlRef = useRef<HTMLInputElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields([]);
    try {
      await onSubmit({ url: url.trim(), description: description.trim(), events, format });
    } catch (err) {
      const problem = toProblem(err);
      setFields(problem.fields);
      setError(problem.fields.length > 0 ? "Check the fields marked below." : problem.message);
      if (fieldMessage(problem.fields, "url")) urlRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const urlError = fieldMessage(fields, "url");
  const eventsError = fieldMessage(fields, "events");
  const descriptionError = fieldMessage(fields, "description");
  const toggle = (type: string) =>
    setEvents((list) => (list.includes(type) ? list.filter((t) => t !== type) : [...list, type]));

  return (
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
          Tick the events to send. Leave all unticked to receive every activity type (presence
          events only when ticked).
        </span>
        <div className="wh-event-grid">
          {EVENT_TYPES.map((type) => (
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
          {busy ? busyLabel : submitLabel}
        </button>
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
