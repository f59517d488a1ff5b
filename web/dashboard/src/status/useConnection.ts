/** The status pill's view of the client's connection state, plus the browser's own online flag. */
import { useEffect, useState } from "react";
import { useHubState } from "@aiclone/hub-client/react";
import type { LinkState } from "./ConnectionStatus";

export interface Connection {
  state: LinkState;
  retryAt: number | null;
  nodeId: string | null;
}

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  return online;
}

export function useConnection(): Connection {
  const hub = useHubState();
  const online = useOnline();
  if (!online) return { state: "offline", retryAt: null, nodeId: null };
  switch (hub.state) {
    case "connected":
      return { state: "live", retryAt: null, nodeId: hub.nodeId };
    case "connecting":
      // A page that has lost a connection (or failed to get one) is
      // reconnecting, on the client's backoff schedule.
      return hub.lastDisconnect
        ? { state: "reconnecting", retryAt: hub.nextReconnectAt, nodeId: null }
        : { state: "connecting", retryAt: null, nodeId: null };
    default:
      return { state: "offline", retryAt: null, nodeId: null };
  }
}
