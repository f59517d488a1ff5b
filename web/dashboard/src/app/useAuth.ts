/**
 * The login state of the page: restoring a stored session at start, signed
 * out (with a reason), or signed in with its services. The refresh token is
 * kept in localStorage, so a reload stays signed in; logging out revokes it
 * on the hub and forgets it here.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import {
  HubApi,
  HubClient,
  createSession,
  register as registerUser,
  restoreSession,
  webStorage,
  type Session,
} from "@aiclone/hub-client";
import { toProblem } from "../hub/errors";
import { hubBaseUrl, type Services } from "../hub/services";

export type AuthState =
  | { phase: "restoring" }
  | { phase: "unreachable"; message: string }
  | { phase: "signed-out"; notice: string | null }
  | { phase: "signed-in"; services: Services };

const storage = () => webStorage(window.localStorage);

async function servicesFor(session: Session): Promise<Services> {
  const baseUrl = hubBaseUrl();
  const api = new HubApi({ baseUrl, getToken: session.getToken });
  const user = await api.me();
  const client = new HubClient({ baseUrl, getToken: session.getToken, storage: storage() });
  return { session, api, client, user };
}

export function useAuth() {
  const [state, setState] = useState<AuthState>({ phase: "restoring" });
  const current = useRef<Services | null>(null);
  /** Set while logout() waits for the hub to revoke the login. */
  const loggingOut = useRef(false);

  const adopt = useCallback((services: Services) => {
    current.current = services;
    services.session.on("ended", ({ reason }) => {
      if (current.current !== services || (reason === "logout" && loggingOut.current)) return;
      current.current = null;
      services.client.disconnect();
      setState({
        phase: "signed-out",
        notice: reason === "logout" ? null : "Your session has ended. Sign in again.",
      });
    });
    setState({ phase: "signed-in", services });
  }, []);

  const restore = useCallback(async () => {
    setState({ phase: "restoring" });
    try {
      const session = await restoreSession({ baseUrl: hubBaseUrl(), storage: storage() });
      if (!session) {
        setState({ phase: "signed-out", notice: null });
        return;
      }
      adopt(await servicesFor(session));
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status === 401)
        setState({ phase: "signed-out", notice: "Your session has ended. Sign in again." });
      else setState({ phase: "unreachable", message: problem.message });
    }
  }, [adopt]);

  useEffect(() => {
    void restore();
  }, [restore]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const session = await createSession({
        baseUrl: hubBaseUrl(),
        email,
        password,
        storage: storage(),
      });
      adopt(await servicesFor(session));
    },
    [adopt],
  );

  const register = useCallback(
    async (email: string, password: string, fullName: string | null) => {
      await registerUser({
        baseUrl: hubBaseUrl(),
        email,
        password,
        ...(fullName ? { fullName } : {}),
      });
      await signIn(email, password);
    },
    [signIn],
  );

  const logout = useCallback(async () => {
    const services = current.current;
    if (!services) return;
    services.client.disconnect();
    loggingOut.current = true;
    try {
      // The sign-in screen comes once the hub has revoked the login, so a
      // reload or another tab cannot use the refresh token in between.
      await services.session.logout();
    } catch {
      // The refresh token is forgotten here either way; a hub that cannot be
      // reached right now cannot be told, and the token expires on its own.
    } finally {
      loggingOut.current = false;
      current.current = null;
      setState({ phase: "signed-out", notice: null });
    }
  }, []);

  return { state, signIn, register, logout, retry: restore };
}
