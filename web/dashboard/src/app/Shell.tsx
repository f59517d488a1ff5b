import type { ReactNode } from "react";
import { routeHref, type Route } from "../lib/route";
import { BrandMark } from "./BrandMark";
import "./shell.css";

const NAV: { route: Route; label: string }[] = [
  { route: "feed", label: "Live feed" },
  { route: "tasks", label: "Tasks" },
  { route: "analytics", label: "Analytics" },
  { route: "webhooks", label: "Webhooks" },
];

export interface ShellProps {
  route: Route;
  userLabel: string;
  status: ReactNode;
  onLogout(): void;
  loggingOut: boolean;
  children: ReactNode;
}

/** The frame of every signed-in screen: brand, navigation, connection status, account. */
export function Shell({ route, userLabel, status, onLogout, loggingOut, children }: ShellProps) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-header-inner">
          <a className="brand" href={routeHref("feed")}>
            <BrandMark />
            <span>AI Clone Hub</span>
          </a>
          <nav className="nav" aria-label="Main">
            {NAV.map((item) => (
              <a
                key={item.route}
                href={routeHref(item.route)}
                aria-current={route === item.route ? "page" : undefined}
              >
                {item.label}
              </a>
            ))}
          </nav>
          <div className="header-end">
            {status}
            <span className="user-name" title={userLabel}>
              {userLabel}
            </span>
            <button
              type="button"
              className="btn btn-small"
              onClick={onLogout}
              disabled={loggingOut}
            >
              {loggingOut ? "Logging out…" : "Log out"}
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="app-main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
