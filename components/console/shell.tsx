"use client";
// The console frame: navigation (entries a role cannot use are left out), who is signed in, sign out.
// At phone width the navigation is a horizontal scrolling bar, scrolled to show the current page.
import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut } from "next-auth/react";
import { useEffect, useRef, useState, type ReactNode } from "react";
import type { Scope } from "@/lib/control-plane/auth/permissions";
import { useSessionView } from "./session-context";
import { hasScope } from "@/lib/control-plane/auth/permissions";

interface NavEntry {
  href: string;
  label: string;
  scope: Scope;
  /** Pages another part of the product fills in later. */
  soon?: boolean;
}

const NAV: NavEntry[] = [
  { href: "/", label: "Overview", scope: "metrics.read" },
  { href: "/instances", label: "Instances", scope: "fleet.read" },
  { href: "/alerts", label: "Alerts", scope: "alerts.read" },
  { href: "/requests", label: "Requests", scope: "requests.read" },
  { href: "/keys", label: "API keys", scope: "keys.read" },
  { href: "/usage", label: "Usage", scope: "usage.read" },
  { href: "/providers", label: "Providers", scope: "providers.read" },
  { href: "/users", label: "Users", scope: "users.read" },
  { href: "/audit", label: "Audit log", scope: "audit.read" },
  { href: "/scaling", label: "Scaling", scope: "scaling.read" },
  { href: "/batches", label: "Batches", scope: "batches.read" },
  { href: "/capacity", label: "Capacity", scope: "metrics.read" },
];

export function ConsoleShell({ children }: { children: ReactNode }) {
  const session = useSessionView();
  const pathname = usePathname();
  const [signingOut, setSigningOut] = useState(false);
  const nav = useRef<HTMLElement>(null);
  useEffect(() => {
    const bar = nav.current;
    const active = bar?.querySelector<HTMLElement>('a[aria-current="page"]');
    if (!bar || !active || bar.scrollWidth <= bar.clientWidth) return;
    // Only the bar scrolls (scrollIntoView could also move the page): the active entry centred.
    bar.scrollLeft = active.offsetLeft - (bar.clientWidth - active.offsetWidth) / 2;
  }, [pathname]);
  const entries = NAV.filter((entry) => hasScope(session.role, entry.scope));
  const onSignOut = async () => {
    setSigningOut(true);
    await signOut({ redirect: false });
    // eslint-disable-next-line @next/next/no-location-assign-relative-destination -- a full load drops the signed-out cache
    window.location.assign("/login");
  };
  return (
    <div className="shell">
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" prefetch={false} className="brand">
          AgentiCorp
        </Link>
        <div className="who">
          <span data-testid="signed-in-as">{session.email}</span>
          <span className={`role role-${session.role}`} data-testid="signed-in-role">
            {session.role}
          </span>
          <button type="button" className="button secondary" onClick={() => void onSignOut()} disabled={signingOut}>
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Console" ref={nav}>
        <ul>
          {entries.map((entry) => {
            const current = entry.href === "/" ? pathname === "/" : pathname.startsWith(entry.href);
            return (
              <li key={entry.href}>
                {/* Every console page renders per request (it reads the session): prefetching all of them
                    on each load would compete with the page's own data on a small machine. */}
                <Link
                  href={entry.href}
                  prefetch={false}
                  aria-current={current ? "page" : undefined}
                  className={current ? "active" : undefined}
                >
                  {entry.label}
                  {entry.soon ? <span className="soon">soon</span> : null}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <main id="content" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
