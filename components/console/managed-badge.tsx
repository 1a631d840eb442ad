"use client";
// What a configuration file manages is read-only in the console (its write routes answer 409): a
// badge says so, and the controls that would change it are shown disabled, with the reason.
import type { ReactNode } from "react";

const MANAGED_HINT = "Managed by the configuration file: change it there and apply the file (npm run config:apply).";

export function ManagedBadge() {
  return (
    <span className="badge badge-managed" title={MANAGED_HINT} data-testid="managed-by-file">
      managed by file
    </span>
  );
}

/** A control the configuration file's ownership disables. */
export function LockedButton({ children, label }: { children: ReactNode; label: string }) {
  return (
    <button type="button" className="button secondary" disabled title={MANAGED_HINT} aria-label={label}>
      {children}
    </button>
  );
}
