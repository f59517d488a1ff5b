import { useState } from "react";
import type { CreatedWebhook, Webhook } from "@aiclone/hub-client";
import { useHubApi } from "@aiclone/hub-client/react";
import { EVENT_TYPES } from "../lib/activityTypes";
import { CopyButton } from "./CopyButton";
import { EndpointForm } from "./EndpointForm";
import { webhookFormat } from "./model";

export interface CreateEndpointProps {
  onCreated(webhook: Webhook): void;
  onDone(webhook: Webhook): void;
  onCancel(): void;
}

/**
 * A new endpoint: the endpoint form, then, on success, the signing secret,
 * this once.
 */
export function CreateEndpoint({ onCreated, onDone, onCancel }: CreateEndpointProps) {
  const api = useHubApi();
  const [created, setCreated] = useState<CreatedWebhook | null>(null);

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

  return (
    <section className="card wh-panel" aria-labelledby="create-title">
      <h2 id="create-title">Add an endpoint</h2>
      <EndpointForm
        initial={{ url: "", description: "", events: [], format: "standard" }}
        submitLabel="Create endpoint"
        busyLabel="Creating…"
        onCancel={onCancel}
        onSubmit={async (v) => {
          const webhook = await api.createWebhook({
            url: v.url,
            events: v.events as (typeof EVENT_TYPES)[number][],
            ...(v.description ? { description: v.description } : {}),
            format: v.format,
          });
          setCreated(webhook);
          onCreated(webhook);
        }}
      />
    </section>
  );
}
