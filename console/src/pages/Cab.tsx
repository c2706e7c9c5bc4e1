/**
 * One cab: its live state, what the relay knows of its payments and refunds, its recent events,
 * what operators did to it, and the actions the operator's role allows (the relay checks again).
 */
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, roleAllows, type AuditEntry, type CabPage } from '../api';
import { Layout } from '../components/Layout';
import { ConfirmDialog, Notice, StatusBadge, useNow } from '../components/ui';
import { exactTime, money, relativeTime, words } from '../format';
import { href, type Route } from '../router';
import { useConsole } from '../store';
import { AuditTable } from './Audit';

type Pending = 'rotate' | 'disable' | 'enable' | 'delete' | null;

interface Outcome {
  id: string;
  at: string;
  order: string;
  outcome: 'paid' | 'failed' | 'refunded';
  why: string | null;
  amount: number | null;
  tip: number | null;
  currency: string;
}

/** What the cab was told about its orders (paid, failed, refunded), whichever PSP reported it. */
function outcomes(page: CabPage): Outcome[] {
  return page.events.flatMap((e): Outcome[] => {
    const d = (e.data ?? {}) as Record<string, unknown>;
    const order = typeof d.merchantOrderId === 'string' ? d.merchantOrderId : '—';
    const currency = typeof d.currency === 'string' ? d.currency : '';
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    if (e.type === 'order.paid')
      return [{ id: e.id, at: e.occurredAt, order, outcome: 'paid', why: null, amount: num(d.totalAmount), tip: num(d.tipAmount), currency }];
    if (e.type === 'order.failed')
      return [{ id: e.id, at: e.occurredAt, order, outcome: 'failed', why: typeof d.reason === 'string' ? d.reason : null, amount: null, tip: null, currency }];
    if (e.type === 'order.refunded') return [{ id: e.id, at: e.occurredAt, order, outcome: 'refunded', why: null, amount: num(d.amount), tip: null, currency }];
    return [];
  });
}

export function Cab({ route, cabId }: { route: Route; cabId: string }) {
  const session = useConsole((s) => s.session)!;
  const liveCab = useConsole((s) => s.cabs.get(cabId));
  const now = useNow();
  const [page, setPage] = useState<CabPage | null>(null);
  const [audit, setAudit] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);
  const [newToken, setNewToken] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const role = session.operator.role;

  const load = useCallback(async () => {
    try {
      setPage(await api<CabPage>('GET', `/cabs/${encodeURIComponent(cabId)}`));
      if (roleAllows(role, 'operator')) setAudit((await api<{ entries: AuditEntry[] }>('GET', `/audit?target=${encodeURIComponent(cabId)}&limit=20`)).entries);
      setError(null);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setMissing(true);
      else setError(err instanceof Error ? err.message : String(err));
    }
  }, [cabId, role]);

  // The page reloads when the live feed says the cab changed (new events, status, backlog).
  const liveKey = liveCab ? JSON.stringify(liveCab) : '';
  useEffect(() => {
    void load();
  }, [load, liveKey]);

  const act = async () => {
    setBusy(true);
    setError(null);
    try {
      const id = encodeURIComponent(cabId);
      if (pending === 'rotate') {
        const res = await api<{ deviceToken: string }>('POST', `/cabs/${id}/rotate-token`);
        setNewToken(res.deviceToken);
      } else if (pending === 'disable' || pending === 'enable') {
        await api('POST', `/cabs/${id}/enabled`, { enabled: pending === 'enable' });
        setDone(pending === 'enable' ? 'The cab is enabled.' : 'The cab is disabled: scans of its QR codes are refused until it is enabled.');
      } else if (pending === 'delete') {
        await api('DELETE', `/cabs/${id}`);
        window.location.hash = href.fleet();
        return;
      }
      setPending(null);
      await load();
    } catch (err) {
      setPending(null);
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  if (missing) {
    return (
      <Layout route={route} title="Cab not found">
        <Notice kind="info">
          There is no cab {cabId}; it may have been deleted. <a href={href.fleet()}>Back to all cabs</a>
        </Notice>
      </Layout>
    );
  }
  const cab = liveCab ?? page?.cab;
  const canOperate = roleAllows(role, 'operator');
  const actions = cab ? (
    <>
      <a className="btn" href={href.qr(cabId)}>
        Print QR codes
      </a>
      {canOperate ? (
        <>
          <button type="button" className="btn" onClick={() => setPending('rotate')}>
            Rotate token
          </button>
          <button type="button" className="btn" onClick={() => setPending(cab.enabled ? 'disable' : 'enable')}>
            {cab.enabled ? 'Disable' : 'Enable'}
          </button>
        </>
      ) : null}
      {roleAllows(role, 'admin') ? (
        <button type="button" className="btn btn-danger-quiet" onClick={() => setPending('delete')}>
          Delete
        </button>
      ) : null}
    </>
  ) : null;

  return (
    <Layout
      route={route}
      title={
        <span className="title-with-badge">
          <a className="crumb" href={href.fleet()}>
            Cabs
          </a>
          <span className="crumb-sep" aria-hidden="true">
            /
          </span>
          <span className="mono">{cabId}</span>
          {cab ? <StatusBadge cab={cab} /> : null}
        </span>
      }
      actions={actions}
    >
      {error ? <Notice kind="error">{error}</Notice> : null}
      {done ? <Notice kind="success">{done}</Notice> : null}
      {!cab ? (
        <p className="empty">Loading…</p>
      ) : (
        <>
          <section className="card details" aria-label="Cab details">
            <dl>
              <div>
                <dt>Label</dt>
                <dd>{cab.label}</dd>
              </div>
              <div>
                <dt>Plate</dt>
                <dd className="mono">{cab.plate}</dd>
              </div>
              <div>
                <dt>Provider</dt>
                <dd>{cab.psp}</dd>
              </div>
              <div>
                <dt>Last seen</dt>
                <dd title={cab.lastSeenAt ? exactTime(cab.lastSeenAt) : undefined}>{cab.online ? 'connected now' : relativeTime(cab.lastSeenAt, now)}</dd>
              </div>
              <div>
                <dt>Ride</dt>
                <dd>{words(cab.rideState)}</dd>
              </div>
              <div>
                <dt>App version</dt>
                <dd className="mono">{cab.appVersion ?? '—'}</dd>
              </div>
              <div>
                <dt>Outbox on the tablet</dt>
                <dd>{cab.outboxDepth ?? '—'}</dd>
              </div>
              <div>
                <dt>Events not yet delivered</dt>
                <dd>{cab.backlog}</dd>
              </div>
              <div>
                <dt>QR codes</dt>
                <dd className="mono">{cab.qrCodes.join(', ') || '—'}</dd>
              </div>
            </dl>
          </section>

          <h2 className="section-title">Payment outcomes</h2>
          <div className="card">
            {page && outcomes(page).length > 0 ? (
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Order</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Why</th>
                    <th scope="col" className="num">
                      Amount
                    </th>
                    <th scope="col" className="num">
                      Tip
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {outcomes(page).map((o) => (
                    <tr key={o.id}>
                      <td title={exactTime(o.at)}>{relativeTime(o.at, now)}</td>
                      <td className="mono">{o.order}</td>
                      <td>
                        <span className={`pill pill-${o.outcome}`}>{o.outcome}</span>
                      </td>
                      <td className="detail">{o.why ?? ''}</td>
                      <td className="num">{o.amount === null ? '—' : money(o.amount, o.currency)}</td>
                      <td className="num">{o.tip === null ? '—' : money(o.tip, o.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="empty">No payment outcomes stored for this cab yet.</p>
            )}
          </div>

          {page && page.payments.length > 0 ? <h2 className="section-title">Payment requests made by the relay</h2> : null}
          <div className={page && page.payments.length > 0 ? 'card' : 'visually-hidden'}>
            {page && page.payments.length > 0 ? (
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Created</th>
                    <th scope="col">Ride</th>
                    <th scope="col">Reference</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">
                      Amount
                    </th>
                    <th scope="col" className="num">
                      Tip
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.payments.map((p) => (
                    <tr key={p.reference}>
                      <td title={exactTime(p.createdAt)}>{relativeTime(p.createdAt, now)}</td>
                      <td className="mono">
                        {p.rideId}
                        {p.attempt > 1 ? ` · attempt ${p.attempt}` : ''}
                      </td>
                      <td className="mono">{p.reference}</td>
                      <td>
                        <span className={`pill pill-${p.status}`}>{words(p.status)}</span>
                      </td>
                      <td className="num">{money(p.amount, p.currency)}</td>
                      <td className="num">{money(p.tip, p.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </div>

          <h2 className="section-title">Refunds</h2>
          <div className="card">
            {page && page.refunds.length > 0 ? (
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Requested</th>
                    <th scope="col">Ride</th>
                    <th scope="col">Reason</th>
                    <th scope="col">By</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">
                      Amount
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.refunds.map((r) => (
                    <tr key={r.refundId}>
                      <td title={exactTime(r.requestedAt)}>{relativeTime(r.requestedAt, now)}</td>
                      <td className="mono">{r.rideId}</td>
                      <td>{r.reason}</td>
                      <td>{r.requestedBy}</td>
                      <td>
                        <span className={`pill pill-${r.status}`}>{words(r.status)}</span>
                      </td>
                      <td className="num">{money(r.amount, r.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="empty">No refunds for this cab.</p>
            )}
          </div>

          <h2 className="section-title">Recent events</h2>
          <div className="card">
            {page && page.events.length > 0 ? (
              <table className="table table-log">
                <thead>
                  <tr>
                    <th scope="col" className="num">
                      Seq
                    </th>
                    <th scope="col">Event</th>
                    <th scope="col">Happened</th>
                    <th scope="col">Delivered</th>
                    <th scope="col">Data</th>
                  </tr>
                </thead>
                <tbody>
                  {page.events.map((e) => (
                    <tr key={e.id}>
                      <td className="num mono">{e.seq}</td>
                      <td className="mono">{e.type}</td>
                      <td title={exactTime(e.occurredAt)}>{relativeTime(e.occurredAt, now)}</td>
                      <td>{e.ackedAt ? <span title={exactTime(e.ackedAt)}>acked</span> : <span className="warn">waiting</span>}</td>
                      <td>
                        <details>
                          <summary>Show</summary>
                          <pre>{JSON.stringify(e.data, null, 2)}</pre>
                        </details>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="empty">No events stored for this cab (acked events are pruned after the retention).</p>
            )}
          </div>

          {audit ? (
            <>
              <h2 className="section-title">Changes by operators</h2>
              <div className="card">
                <AuditTable entries={audit} now={now} />
              </div>
            </>
          ) : null}
        </>
      )}

      <ConfirmDialog
        open={pending === 'rotate' && newToken === null}
        title={`Rotate the device token of ${cabId}?`}
        confirmLabel="Rotate token"
        busy={busy}
        onConfirm={() => void act()}
        onCancel={() => setPending(null)}
      >
        <p>The tablet is disconnected at once and cannot connect again until its kiosk config holds the new token, which is shown only once.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pending === 'disable' || pending === 'enable'}
        title={pending === 'enable' ? `Enable ${cabId}?` : `Disable ${cabId}?`}
        confirmLabel={pending === 'enable' ? 'Enable cab' : 'Disable cab'}
        danger={pending === 'disable'}
        busy={busy}
        onConfirm={() => void act()}
        onCancel={() => setPending(null)}
      >
        <p>
          {pending === 'enable'
            ? 'Scans of its QR codes reach the cab again.'
            : 'Scans of its QR codes are refused until the cab is enabled again. Its token and history stay.'}
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pending === 'delete'}
        title={`Delete ${cabId}?`}
        confirmLabel="Delete cab"
        danger
        typeToConfirm={cabId}
        busy={busy}
        onConfirm={() => void act()}
        onCancel={() => setPending(null)}
      >
        <p>The cab, its events and its QR codes are removed from the relay and the provider. This cannot be undone.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={newToken !== null}
        title="New device token"
        confirmLabel="I have copied it"
        hideCancel
        onConfirm={() => {
          setNewToken(null);
          setPending(null);
          setDone('The token was rotated; the tablet connects again once its config holds the new one.');
        }}
        onCancel={() => {
          setNewToken(null);
          setPending(null);
        }}
      >
        <p>Put this token in the cab’s kiosk config. It is shown only this once; the old one no longer works.</p>
        <div className="token-row">
          <output className="token" aria-label="New device token">
            {newToken}
          </output>
          <button type="button" className="btn" onClick={() => void navigator.clipboard?.writeText(newToken ?? '')}>
            Copy
          </button>
        </div>
      </ConfirmDialog>
    </Layout>
  );
}
