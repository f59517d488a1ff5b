// The embeddable webhook portal (`/portal`): the dashboard's webhook screens
// for one user, opened with a one-time link instead of a sign-in.
import "../styles/tokens.css";
import "../styles/base.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { PortalApp } from "./PortalApp";
import { openPortal } from "./portalSession";

const root = document.getElementById("root");
if (!root) throw new Error("the page has no #root element");
// Started once, outside React: the link's token can be exchanged only once.
const opening = openPortal(window);
createRoot(root).render(
  <StrictMode>
    <PortalApp opening={opening} />
  </StrictMode>,
);
