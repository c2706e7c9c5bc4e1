/** The audit log: every login and every change, newest first, with refused attempts marked. */
import { useEffect, useState } from 'react';
import { api, type AuditEntry } from '../api';
import { Layout } from '../components/Layout';
import { Notice, useNow } from '../components/ui';
import { exactTime, relativeTime } from '../format';
import { href, type Route } from '../router';

const PAGE = 100;

/** Said as the request it was, since the outcome column tells whether it was done or refused. */
const ACTIONS: Record<string, string> = {
  login: 'Log in',
  logout: 'Log out',
  password_change: 'Change password',
  'operator.add': 'Add operator',
  'operator.reset_password': 'Reset password',
  'operator.disable': 'Disable operator',
  'operator.enable': 'Enable operator',
  'cab.rotate_token': 'Rotate device token',
  'cab.disable': 'Disable cab',
  'cab.enable': 'Enable cab',
  'cab.delete': 'Delete cab',
  role_refused: 'Action beyond their role',
  csrf_refused: 'Request without a valid CSRF token',
  origin_refused: 'Request from another origin',
};

function detailText(entry: AuditEntry): string {
  if (!entry.detail || typeof entry.detail !== 'object') return '';
  return Object.entries(entry.detail as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

export function AuditTable({ entries, now }: { entries: AuditEntry[]; now: number }) {
  if (entries.length === 0) return <p className="empty">Nothing recorded yet.</p>;
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">What</th>
          <th scope="col">On</th>
          <th scope="col">Outcome</th>
          <th scope="col">Details</th>
          <th scope="col">Address</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.id}>
            <td title={exactTime(e.at)}>{relativeTime(e.at, now)}</td>
            <td>{e.actor}</td>
            <td>{ACTIONS[e.action] ?? e.action}</td>
            <td className="mono">{e.target && e.action.startsWith('cab.') ? <a href={href.cab(e.target)}>{e.target}</a> : (e.target ?? '—')}</td>
            <td>{e.outcome === 'ok' ? <span className="pill pill-ok">done</span> : <span className="pill pill-refused">refused</span>}</td>
            <td className="detail">{detailText(e)}</td>
            <td className="mono">{e.ip ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Audit({ route }: { route: Route }) {
  const now = useNow();
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = async (before?: number) => {
    try {
      const res = await api<{ entries: AuditEntry[] }>('GET', `/audit?limit=${PAGE}${before ? `&before=${before}` : ''}`);
      setEntries((prev) => (before ? [...prev, ...res.entries] : res.entries));
      setMore(res.entries.length === PAGE);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  useEffect(() => {
    void load();
  }, []);
  return (
    <Layout route={route} title="Audit log">
      {error ? <Notice kind="error">{error}</Notice> : null}
      <div className="card">
        <AuditTable entries={entries} now={now} />
      </div>
      {more ? (
        <button type="button" className="btn load-more" onClick={() => void load(entries.at(-1)?.id)}>
          Show older
        </button>
      ) : null}
    </Layout>
  );
}
