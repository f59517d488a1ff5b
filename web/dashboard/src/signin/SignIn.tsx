import { useEffect, useId, useState, type FormEvent } from "react";
import { BrandMark } from "../app/BrandMark";
import { toProblem, type Problem } from "../hub/errors";
import "./signin.css";

type Mode = "signin" | "register";

export interface SignInProps {
  onSignIn(email: string, password: string): Promise<void>;
  onRegister(email: string, password: string, fullName: string | null): Promise<void>;
  /** A reason to show above the form, such as an expired session. */
  notice?: string | null;
}

/** Sign-in and registration, with errors in words and the rate-limit wait counted down. */
export function SignIn({ onSignIn, onRegister, notice }: SignInProps) {
  const [mode, setMode] = useState<Mode>("signin");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [fullName, setFullName] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const waitLeft = useCountdown(problem?.retryAfter ?? null);
  const ids = { email: useId(), password: useId(), name: useId(), error: useId() };

  const fieldError = (name: string) => problem?.fields.find((f) => f.field === name)?.message;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      if (mode === "signin") await onSignIn(email.trim(), password);
      else await onRegister(email.trim(), password, fullName.trim() || null);
    } catch (err) {
      setProblem(toProblem(err));
    } finally {
      setBusy(false);
    }
  }

  const message =
    problem && problem.code === "rate_limited" && waitLeft !== null
      ? waitLeft > 0
        ? `Too many attempts. Try again in ${waitLeft} s.`
        : "You can try again now."
      : problem?.message;

  return (
    <main className="signin">
      <section className="card signin-panel" aria-labelledby="signin-title">
        <div className="signin-brand">
          <BrandMark />
          <span>AI Clone Hub</span>
        </div>
        <h1 id="signin-title">{mode === "signin" ? "Sign in" : "Create your account"}</h1>
        <p className="signin-lede">
          {mode === "signin"
            ? "See your clone's activity, tasks and results as they happen."
            : "One account for the live feed, tasks and analytics."}
        </p>
        <div className="signin-tabs" role="group" aria-label="Account">
          <button
            type="button"
            aria-pressed={mode === "signin"}
            onClick={() => {
              setMode("signin");
              setProblem(null);
            }}
          >
            Sign in
          </button>
          <button
            type="button"
            aria-pressed={mode === "register"}
            onClick={() => {
              setMode("register");
              setProblem(null);
            }}
          >
            Create account
          </button>
        </div>
        {notice && !problem ? (
          <p className="alert alert-info" role="status">
            {notice}
          </p>
        ) : null}
        <form
          className="signin-form"
          onSubmit={submit}
          noValidate
          aria-describedby={problem ? ids.error : undefined}
        >
          {problem ? (
            <p id={ids.error} className="alert alert-error" role="alert">
              {message}
            </p>
          ) : null}
          {mode === "register" ? (
            <div className="field">
              <label htmlFor={ids.name}>Full name (optional)</label>
              <input
                id={ids.name}
                className="input"
                name="full_name"
                autoComplete="name"
                value={fullName}
                onChange={(e) => setFullName(e.target.value)}
              />
            </div>
          ) : null}
          <div className="field">
            <label htmlFor={ids.email}>E-mail</label>
            <input
              id={ids.email}
              className="input"
              name="email"
              type="email"
              autoComplete={mode === "signin" ? "username" : "email"}
              required
              value={email}
              aria-invalid={fieldError("email") ? true : undefined}
              onChange={(e) => setEmail(e.target.value)}
            />
            {fieldError("email") ? (
              <span className="field-error">{fieldError("email")}</span>
            ) : null}
          </div>
          <div className="field">
            <label htmlFor={ids.password}>Password</label>
            <input
              id={ids.password}
              className="input"
              name="password"
              type="password"
              autoComplete={mode === "signin" ? "current-password" : "new-password"}
              required
              minLength={mode === "register" ? 8 : undefined}
              value={password}
              aria-invalid={fieldError("password") ? true : undefined}
              onChange={(e) => setPassword(e.target.value)}
            />
            {fieldError("password") ? (
              <span className="field-error">{fieldError("password")}</span>
            ) : mode === "register" ? (
              <span className="field-hint">At least 8 characters.</span>
            ) : null}
          </div>
          <button
            className="btn btn-primary"
            type="submit"
            disabled={busy || (problem?.code === "rate_limited" && (waitLeft ?? 0) > 0)}
          >
            {busy ? <span className="spinner" aria-hidden="true" /> : null}
            {mode === "signin" ? "Sign in" : "Create account"}
          </button>
        </form>
        <p className="signin-foot">
          Your session stays signed in on this device until you log out.
        </p>
      </section>
    </main>
  );
}

/** Whole seconds left of a wait that started when `seconds` was set. */
function useCountdown(seconds: number | null): number | null {
  const [left, setLeft] = useState<number | null>(seconds);
  useEffect(() => {
    if (seconds === null) {
      setLeft(null);
      return;
    }
    const until = Date.now() + seconds * 1000;
    const tick = () => setLeft(Math.max(0, Math.ceil((until - Date.now()) / 1000)));
    tick();
    const timer = window.setInterval(tick, 250);
    return () => window.clearInterval(timer);
  }, [seconds]);
  return left;
}
