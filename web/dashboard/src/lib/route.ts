/** Hash routing (`#/feed`, `#/tasks`, `#/analytics`, `#/webhooks`): the hub only serves `/`. */
import { useEffect, useState } from "react";

export const ROUTES = ["feed", "tasks", "analytics", "webhooks"] as const;
export type Route = (typeof ROUTES)[number];

export const DEFAULT_ROUTE: Route = "feed";

export function parseRoute(hash: string): Route {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? "";
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : DEFAULT_ROUTE;
}

export function routeHref(route: Route): string {
  return `#/${route}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
