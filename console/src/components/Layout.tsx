/** The frame of every page after login: the sidebar with what this operator may open, and the page. */
import type { ReactNode } from 'react';
import { api, roleAllows, type Role } from '../api';
import { stopLive } from '../live';
import { href, type Route } from '../router';
import { useConsole } from '../store';

interface NavItem {
  label: string;
  href: string;
  active: (route: Route) => boolean;
  needs: Role;
}

/** Sections grow as pages are added (payments, settlement, markets, releases); only pages that exist are listed. */
const NAV: { section: string; items: NavItem[] }[] = [
  {
    section: 'Fleet',
    items: [{ label: 'Cabs', href: href.fleet(), active: (r) => r.page === 'fleet' || r.page === 'cab' || r.page === 'qr', needs: 'viewer' }],
  },
  {
    section: 'Activity',
    items: [{ label: 'Audit log', href: href.audit(), active: (r) => r.page === 'audit', needs: 'operator' }],
  },
];

export function Layout({ route, title, actions, children }: { route: Route; title: ReactNode; actions?: ReactNode; children: ReactNode }) {
  const session = useConsole((s) => s.session);
  const live = useConsole((s) => s.live);
  if (!session) return null;
  const logout = async () => {
    await api('POST', '/logout').catch(() => {});
    stopLive();
    useConsole.getState().setSession(null, 'You have logged out.');
  };
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Console">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            c
          </span>
          <span>cabpay</span>
          <span className="brand-sub">Fleet console</span>
        </div>
        {NAV.map((group) => {
          const items = group.items.filter((i) => roleAllows(session.operator.role, i.needs));
          if (items.length === 0) return null;
          return (
            <div className="nav-group" key={group.section}>
              <div className="nav-section">{group.section}</div>
              <ul>
                {items.map((item) => (
                  <li key={item.href}>
                    <a href={item.href} className={item.active(route) ? 'nav-link active' : 'nav-link'} aria-current={item.active(route) ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
        <div className="sidebar-foot">
          <div className={`live live-${live}`} role="status">
            <span className="dot" aria-hidden="true" />
            {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
          </div>
          <div className="whoami">
            <span className="who">{session.operator.name}</span>
            <span className="role">{session.operator.role}</span>
          </div>
          <button type="button" className="btn btn-quiet" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        <header className="page-head">
          <h1>{title}</h1>
          {actions ? <div className="page-actions">{actions}</div> : null}
        </header>
        {children}
      </main>
    </div>
  );
}
