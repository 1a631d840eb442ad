"use client";
// The sign-in form: next-auth's credentials flow without its redirects, so errors (wrong
// password, too many attempts, disabled account) show here.
import { signIn } from "next-auth/react";
import { useId, useState, type FormEvent } from "react";
import { safeCallbackPath } from "@/lib/control-plane/auth/callback-url";

export function LoginForm({ callbackUrl, initialError }: { callbackUrl?: string; initialError?: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(initialError ?? null);
  /** Answers received so far: lets a test (or assistive tech) tell a new answer from the last one. */
  const [answers, setAnswers] = useState(0);
  const ids = { email: useId(), password: useId(), error: useId() };
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      const result = await signIn("credentials", { email, password, redirect: false });
      if (result?.ok && !result.error) {
        window.location.assign(safeCallbackPath(callbackUrl, window.location.origin));
        return;
      }
      setError(result?.error && result.error !== "CredentialsSignin" ? result.error : "Incorrect email or password.");
    } catch {
      setError("Cannot reach the server. Try again.");
    }
    setAnswers((n) => n + 1);
    setPending(false);
  };
  return (
    <form
      className="login-form"
      onSubmit={(event) => void onSubmit(event)}
      aria-label="Sign in"
      aria-describedby={error ? ids.error : undefined}
      data-answers={answers}
    >
      <h1>Sign in to AgentiCorp</h1>
      <div className="field">
        <label htmlFor={ids.email}>Email</label>
        <input
          id={ids.email}
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          autoFocus
        />
      </div>
      <div className="field">
        <label htmlFor={ids.password}>Password</label>
        <input
          id={ids.password}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      {error ? (
        <p id={ids.error} className="state state-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="button" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
