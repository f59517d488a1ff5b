/**
 * Webhook management, the same in the dashboard (`#/webhooks`) and in the
 * embeddable portal: the endpoints, a form to add one, and each endpoint's
 * secret, test button and live delivery log. Data comes through the hub
 * client in context (HubProvider); `readOnly` hides every control that
 * changes something.
 */
import { useState, type ReactNode } from "react";
import type { Webhook } from "@aiclone/hub-client";
import { CreateEndpoint } from "./CreateEndpoint";
import { EndpointDetail } from "./EndpointDetail";
import { EndpointList } from "./EndpointList";
import { useWebhooks } from "./useWebhooks";
import "./webhooks.css";

type View = { name: "list" } | { name: "create" } | { name: "detail"; id: string };

export interface WebhooksScreenProps {
  readOnly?: boolean;
  /** Shown under the title (the portal says whose endpoints these are and until when). */
  intro?: ReactNode;
}

export function WebhooksScreen({ readOnly = false, intro }: WebhooksScreenProps) {
  const list = useWebhooks();
  const [view, setView] = useState<View>({ name: "list" });
  const [notice, setNotice] = useState<string | null>(null);
  /** The endpoint whose detail was closed: its row takes the focus back. */
  const [returnTo, setReturnTo] = useState<string | null>(null);

  const open = (id: string) => {
    setNotice(null);
    setView({ name: "detail", id });
  };
  const selected: Webhook | undefined =
    view.name === "detail" ? list.items.find((w) => w.id === view.id) : undefined;

  return (
    <section aria-labelledby="webhooks-title" className="wh-screen">
      <div className="page-head">
        <div>
          <h1 id="webhooks-title">Webhooks</h1>
          <p>Endpoints that receive your activities as signed HTTP requests.</p>
          {intro}
        </div>
        {readOnly || view.name === "create" ? null : (
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              setNotice(null);
              setView({ name: "create" });
            }}
          >
            Add endpoint
          </button>
        )}
      </div>
      {readOnly ? (
        <p className="alert alert-info wh-readonly" role="note">
          Read-only: you can see the endpoints and their delivery logs, but not change them.
        </p>
      ) : null}
      {notice ? (
        <p className="alert alert-info" role="status">
          {notice}
        </p>
      ) : null}

      {view.name === "create" && !readOnly ? (
        <CreateEndpoint
          onCreated={(w) => list.upsert(w)}
          onDone={(w) => open(w.id)}
          onCancel={() => setView({ name: "list" })}
        />
      ) : view.name === "detail" && selected ? (
        <EndpointDetail
          key={selected.id}
          webhook={selected}
          readOnly={readOnly}
          onBack={() => {
            setReturnTo(selected.id);
            setView({ name: "list" });
          }}
          onChanged={list.upsert}
          onRefresh={list.refresh}
          onDeleted={(id) => {
            list.remove(id);
            setNotice(`The endpoint ${selected.url} was deleted.`);
            setView({ name: "list" });
          }}
        />
      ) : (
        <div className="card" aria-busy={list.loading}>
          {list.error ? (
            <p className="alert alert-error" role="alert">
              {list.error}
            </p>
          ) : null}
          {list.loading && list.items.length === 0 ? (
            <div className="empty-state">
              <span className="spinner" aria-hidden="true" /> Loading endpoints…
            </div>
          ) : list.items.length === 0 && !list.error ? (
            <div className="empty-state">
              <strong>No endpoints yet</strong>
              {readOnly
                ? "None has been set up."
                : "Add one to receive your activities as signed HTTP requests."}
            </div>
          ) : (
            <EndpointList items={list.items} onOpen={open} focusId={returnTo} />
          )}
        </div>
      )}
    </section>
  );
}
