import { useEffect, useState } from "react";
import "./status.css";

export type LinkState = "live" | "connecting" | "reconnecting" | "offline";

export interface ConnectionStatusProps {
  state: LinkState;
  /** When the next reconnect attempt starts (ms since the epoch), if known. */
  retryAt: number | null;
  /** The hub node this page is connected to, from its welcome frame. */
  nodeId: string | null;
}

/** The always-visible pill: live (and the node), connecting, reconnecting in N s, offline. */
export function ConnectionStatus({ state, retryAt, nodeId }: ConnectionStatusProps) {
  const seconds = useSecondsUntil(state === "reconnecting" ? retryAt : null);
  let label: string;
  switch (state) {
    case "live":
      label = "Live";
      break;
    case "connecting":
      label = "Connecting…";
      break;
    case "reconnecting":
      label = seconds !== null && seconds > 0 ? `Reconnecting in ${seconds} s` : "Reconnecting…";
      break;
    case "offline":
      label = "Offline";
      break;
  }
  return (
    <div className={`conn conn-${state}`} role="status" aria-live="polite" data-state={state}>
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-label">{label}</span>
      {state === "live" && nodeId ? (
        <span className="conn-node" title="Hub node serving this page">
          <span className="visually-hidden">on node </span>
          {nodeId}
        </span>
      ) : null}
    </div>
  );
}

function useSecondsUntil(at: number | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (at === null) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 250);
    return () => window.clearInterval(timer);
  }, [at]);
  return at === null ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
