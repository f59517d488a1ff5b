/**
 * What every signed-in screen talks to: the session (tokens), the typed REST
 * API and the live WebSocket client, created once per login and shared
 * through React context.
 */
import { createContext, useContext } from "react";
import type { HubApi, HubClient, Session, User } from "@aiclone/hub-client";

export interface Services {
  session: Session;
  api: HubApi;
  client: HubClient;
  user: User;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices() outside a signed-in page");
  return services;
}

/** The hub this page was served by: the page and the API share one origin. */
export function hubBaseUrl(): string {
  return window.location.origin;
}
