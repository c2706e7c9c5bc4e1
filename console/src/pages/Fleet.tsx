/** Every cab, live: status, last seen, app version, ride state, outbox and backlog; filter and search. */
import { useMemo, useState } from 'react';
import type { Cab } from '../api';
import { Layout } from '../components/Layout';
import { StatusBadge, useNow } from '../components/ui';
import { exactTime, relativeTime, words } from '../format';
import { href, type Route } from '../router';
import { useConsole } from '../store';

type Show = 'all' | 'online' | 'offline' | 'disabled' | 'attention';

const SHOW: { value: Show; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'online', label: 'Online' },
  { value: 'offline', label: 'Offline' },
  { value: 'attention', label: 'Backlog' },
  { value: 'disabled', label: 'Disabled' },
];

const matchesShow = (cab: Cab, show: Show) => {
  switch (show) {
    case 'all':
      return true;
    case 'online':
      return cab.enabled && cab.online;
    case 'offline':
      return cab.enabled && !cab.online;
    case 'disabled':
      return !cab.enabled;
    case 'attention':
      return cab.backlog > 0 || (cab.outboxDepth ?? 0) > 0;
  }
};

export function Fleet({ route }: { route: Route }) {
  const cabs = useConsole((s) => s.cabs);
  const live = useConsole((s) => s.live);
  const now = useNow();
  const [query, setQuery] = useState('');
  const [show, setShow] = useState<Show>('all');
  const [psp, setPsp] = useState('');
  const all = useMemo(() => [...cabs.values()].sort((a, b) => a.cabId.localeCompare(b.cabId)), [cabs]);
  const psps = useMemo(() => [...new Set(all.map((c) => c.psp))].sort(), [all]);
  const q = query.trim().toLowerCase();
  const shown = all.filter(
    (c) => matchesShow(c, show) && (!psp || c.psp === psp) && (!q || [c.cabId, c.plate, c.label].some((f) => f.toLowerCase().includes(q))),
  );
  const count = (s: Show) => all.filter((c) => matchesShow(c, s)).length;

  return (
    <Layout route={route} title="Cabs">
      <section className="stats" aria-label="Fleet summary">
        <div className="stat">
          <span className="stat-label">Cabs</span>
          <span className="stat-value">{all.length}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Online</span>
          <span className="stat-value stat-good">{count('online')}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Offline</span>
          <span className="stat-value">{count('offline')}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Events waiting</span>
          <span className="stat-value">{all.reduce((n, c) => n + c.backlog, 0)}</span>
        </div>
      </section>

      <div className="toolbar">
        <div className="segmented" role="group" aria-label="Show">
          {SHOW.map((s) => (
            <button
              key={s.value}
              type="button"
              className={show === s.value ? 'seg active' : 'seg'}
              aria-pressed={show === s.value}
              onClick={() => setShow(s.value)}
            >
              {s.label} <span className="seg-count">{count(s.value)}</span>
            </button>
          ))}
        </div>
        <label className="select">
          <span className="visually-hidden">Payment provider</span>
          <select value={psp} onChange={(e) => setPsp(e.target.value)}>
            <option value="">All providers</option>
            {psps.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label className="search">
          <span className="visually-hidden">Search cabs</span>
          <input type="search" placeholder="Search cab id, plate or label" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
      </div>

      <div className="card">
        <table className="table">
          <caption className="visually-hidden">Cabs{live === 'live' ? ', updating live' : ''}</caption>
          <thead>
            <tr>
              <th scope="col">Cab</th>
              <th scope="col">Plate</th>
              <th scope="col">Status</th>
              <th scope="col">Last seen</th>
              <th scope="col">Ride</th>
              <th scope="col">App</th>
              <th scope="col" className="num">
                Outbox
              </th>
              <th scope="col" className="num">
                Backlog
              </th>
              <th scope="col">Provider</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((cab) => (
              <tr key={cab.cabId} data-cab={cab.cabId}>
                <td>
                  <a className="cab-link" href={href.cab(cab.cabId)}>
                    <span className="mono">{cab.cabId}</span>
                    <span className="sub">{cab.label}</span>
                  </a>
                </td>
                <td className="mono">{cab.plate}</td>
                <td>
                  <StatusBadge cab={cab} />
                </td>
                <td title={cab.lastSeenAt ? exactTime(cab.lastSeenAt) : undefined}>{cab.online ? 'now' : relativeTime(cab.lastSeenAt, now)}</td>
                <td>{words(cab.rideState)}</td>
                <td className="mono">{cab.appVersion ?? '—'}</td>
                <td className={(cab.outboxDepth ?? 0) > 0 ? 'num warn' : 'num'}>{cab.outboxDepth ?? '—'}</td>
                <td className={cab.backlog > 0 ? 'num warn' : 'num'}>{cab.backlog}</td>
                <td>{cab.psp}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {shown.length === 0 ? (
          <p className="empty">
            {all.length === 0 ? (
              <>
                No cabs yet. Add one with <code>npm run fleet -- add</code>.
              </>
            ) : (
              'No cab matches these filters.'
            )}
          </p>
        ) : null}
      </div>
    </Layout>
  );
}
