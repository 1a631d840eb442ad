"use client";
// A titled card with the three states every panel has besides its data: loading, empty, error.
import type { ReactNode } from "react";

export interface PanelProps {
  title: string;
  /** Extra controls or figures in the header. */
  actions?: ReactNode;
  loading?: boolean;
  error?: Error | string | null;
  empty?: boolean;
  emptyText?: string;
  className?: string;
  children?: ReactNode;
  testId?: string;
}

export function Panel({
  title,
  actions,
  loading,
  error,
  empty,
  emptyText = "No data yet.",
  className,
  children,
  testId,
}: PanelProps) {
  const id = `panel-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  let body: ReactNode;
  if (error) {
    body = (
      <p className="state state-error" role="alert">
        {typeof error === "string" ? error : error.message}
      </p>
    );
  } else if (loading) {
    body = (
      <p className="state state-loading" aria-live="polite">
        Loading…
      </p>
    );
  } else if (empty) {
    body = <p className="state state-empty">{emptyText}</p>;
  } else {
    body = children;
  }
  return (
    <section
      className={`panel ${className ?? ""}`}
      aria-labelledby={id}
      data-testid={testId}
      data-state={error ? "error" : loading ? "loading" : empty ? "empty" : "ready"}
    >
      <header className="panel-header">
        <h2 id={id}>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </header>
      <div className="panel-body">{body}</div>
    </section>
  );
}

export function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}
