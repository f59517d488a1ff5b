import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { HubApi, HubClient } from "@aiclone/hub-client";
import { HubProvider } from "@aiclone/hub-client/react";
import { BrandMark } from "../app/BrandMark";
import { formatDateTime } from "../lib/format";
import { ConnectionStatus } from "../status/ConnectionStatus";
import { useConnection } from "../status/useConnection";
import { WebhooksScreen } from "../webhooks/WebhooksScreen";
import { endPortal, hubBaseUrl, type PortalOpening, type PortalSession } from "./portalSession";
import "../app/shell.css";
import "./portal.css";

type Phase = PortalOpening | { kind: "opening" };

/** The portal page: opening the link, then the webhook screens, or why not. */
export function PortalApp({ opening }: { opening: Promise<PortalOpening> }) {
  const [phase, setPhase] = useState<Phase>({ kind: "opening" });
  const ended = useCallback(() => {
    endPortal(window);
    setPhase({ kind: "expired" });
  }, []);
  useEffect(() => {
    let live = true;
    void opening.then((result) => {
      if (live) setPhase(result);
    });
    return () => {
      live = false;
    };
  }, [opening]);

  useEffect(() => {
    document.title =
      phase.kind === "ready" ? "Webhooks · AI Clone Hub" : "Webhook portal · AI Clone Hub";
  }, [phase.kind]);

  switch (phase.kind) {
    case "opening":
      return (
        <div className="splash" role="status">
          <span>
            <span className="spinner" aria-hidden="true" /> Opening the webhook portal…
          </span>
        </div>
      );
    case "ready":
      return <Portal session={phase.session} onEnded={ended} />;
    case "invalid":
      return (
        <Notice title="This link cannot be used">
          Portal links work once and for a limited time. This one was already opened, has expired,
          or was never issued. Open the webhook settings again in the app to get a new link.
        </Notice>
      );
    case "expired":
      return (
        <Notice title="This link has expired">
          The portal session has ended. Open the webhook settings again in the app to get a new
          link.
        </Notice>
      );
    case "missing":
      return (
        <Notice title="Open the portal from the app">
          The webhook portal opens with a link from the app that manages your account.
        </Notice>
      );
    case "unreachable":
      return (
        <Notice title="The hub cannot be reached">
          {phase.message} Reload the page to try again.
        </Notice>
      );
  }
}

function Notice({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="splash">
      <div className="card portal-notice">
        <div className="portal-brand">
          <BrandMark />
          <span>AI Clone Hub</span>
        </div>
        <h1>{title}</h1>
        <p>{children}</p>
      </div>
    </main>
  );
}

/** A signed-in portal: its own REST and live clients, ended at the session's expiry. */
function Portal({ session, onEnded }: { session: PortalSession; onEnded(): void }) {
  const services = useMemo(() => {
    const baseUrl = hubBaseUrl(window);
    const token = session.accessToken;
    // A 401 means the session is over (it expired, or the hub forgot it):
    // there is nothing to refresh it with.
    const watched: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (res.status === 401) window.setTimeout(onEnded, 0);
      return res;
    };
    return {
      api: new HubApi({ baseUrl, token, fetch: watched }),
      client: new HubClient({ baseUrl, token }),
    };
  }, [session.accessToken, onEnded]);

  useEffect(() => {
    const left = session.expiresAt - Date.now();
    const timer = window.setTimeout(
      () => {
        services.client.disconnect();
        onEnded();
      },
      Math.max(0, Math.min(left, 2 ** 31 - 1)),
    );
    return () => window.clearTimeout(timer);
  }, [session.expiresAt, services, onEnded]);

  return (
    <HubProvider client={services.client} api={services.api}>
      <PortalFrame session={session} />
    </HubProvider>
  );
}

function PortalFrame({ session }: { session: PortalSession }) {
  const connection = useConnection();
  return (
    <>
      <header className="portal-header">
        <div className="portal-header-inner">
          <span className="portal-brand">
            <BrandMark />
            <span>Webhook portal</span>
          </span>
          <div className="portal-header-end">
            {session.readOnly ? <span className="badge portal-ro">Read-only</span> : null}
            <ConnectionStatus {...connection} />
          </div>
        </div>
      </header>
      <main id="main" className="app-main portal-main">
        <WebhooksScreen
          readOnly={session.readOnly}
          intro={
            <p className="portal-expiry">
              This link works until{" "}
              <time dateTime={new Date(session.expiresAt).toISOString()}>
                {formatDateTime(new Date(session.expiresAt).toISOString())}
              </time>
              .
            </p>
          }
        />
      </main>
    </>
  );
}
