import { useEffect, useState } from "react";
import { HubProvider } from "@aiclone/hub-client/react";
import { AnalyticsScreen } from "../analytics/AnalyticsScreen";
import { FeedScreen } from "../feed/FeedScreen";
import { ServicesContext, type Services } from "../hub/services";
import { useRoute, type Route } from "../lib/route";
import { SignIn } from "../signin/SignIn";
import { ConnectionStatus } from "../status/ConnectionStatus";
import { useConnection } from "../status/useConnection";
import { TasksScreen } from "../tasks/TasksScreen";
import { WebhooksScreen } from "../webhooks/WebhooksScreen";
import { useAuth } from "./useAuth";
import { Shell } from "./Shell";
import { BrandMark } from "./BrandMark";

const TITLES: Record<Route, string> = {
  feed: "Live feed",
  tasks: "Tasks",
  analytics: "Analytics",
  webhooks: "Webhooks",
};

export function App() {
  const { state, signIn, register, logout, retry } = useAuth();
  switch (state.phase) {
    case "restoring":
      return (
        <div className="splash" role="status">
          <span>
            <span className="spinner" aria-hidden="true" /> Opening your dashboard…
          </span>
        </div>
      );
    case "unreachable":
      return (
        <main className="splash">
          <div className="card signin-panel">
            <div className="signin-brand">
              <BrandMark />
              <span>AI Clone Hub</span>
            </div>
            <h1>The hub cannot be reached</h1>
            <p className="alert alert-error" role="alert">
              {state.message}
            </p>
            <button type="button" className="btn btn-primary" onClick={() => void retry()}>
              Try again
            </button>
          </div>
        </main>
      );
    case "signed-out":
      return <SignIn onSignIn={signIn} onRegister={register} notice={state.notice} />;
    case "signed-in":
      return <SignedIn services={state.services} onLogout={logout} />;
  }
}

function SignedIn({ services, onLogout }: { services: Services; onLogout(): Promise<void> }) {
  const route = useRoute();
  const [loggingOut, setLoggingOut] = useState(false);

  useEffect(() => {
    document.title = `${TITLES[route]} · AI Clone Hub`;
  }, [route]);

  const user = services.user;
  return (
    <ServicesContext.Provider value={services}>
      <HubProvider client={services.client} api={services.api} session={services.session}>
        <Shell
          route={route}
          userLabel={user.full_name || user.email}
          status={<Status />}
          loggingOut={loggingOut}
          onLogout={() => {
            setLoggingOut(true);
            void onLogout().finally(() => setLoggingOut(false));
          }}
        >
          {route === "feed" ? (
            <FeedScreen />
          ) : route === "tasks" ? (
            <TasksScreen />
          ) : route === "webhooks" ? (
            <WebhooksScreen />
          ) : (
            <AnalyticsScreen />
          )}
        </Shell>
      </HubProvider>
    </ServicesContext.Provider>
  );
}

function Status() {
  return <ConnectionStatus {...useConnection()} />;
}
