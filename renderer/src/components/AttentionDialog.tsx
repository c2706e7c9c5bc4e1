import { useEffect, useRef } from 'react';
import type { RideAttentionView } from '../../../protocol/kiosk-api.js';
import { ATTENTION_STATUS_KEYS } from '../attention.js';
import { run } from '../commands.js';
import { driverLocale, PaneLocale, useLocale, useSnapshot, useT } from '../hooks.js';
import { formatTime, type MessageKey } from '../i18n/index.js';
import { failureKey } from '../screen.js';
import { useUi } from '../state.js';
import { Money } from './Money.js';
import { OrderLines } from './OrderLines.js';

/**
 * The rides the driver left unfinished for the next fare that still need them, newest first:
 * tap one for its details, then take it off the list, or record it paid another way. In the
 * driver's language; the passenger's side is covered while it is open.
 */
export function AttentionDialog() {
  const snapshot = useSnapshot();
  const rideId = useUi((ui) => ui.attentionRideId);
  const close = useUi((ui) => ui.closeAttention);
  const ride = snapshot.ridesNeedingAttention.find((r) => r.rideId === rideId) ?? null;
  const locale = driverLocale(snapshot);
  return (
    <PaneLocale.Provider value={locale}>
      <div className="dialog-backdrop" lang={locale} onClick={close}>
        <div
          className="dialog attention-dialog"
          role="dialog"
          aria-modal="true"
          aria-labelledby="attention-title"
          data-testid="attention-dialog"
          onClick={(event) => event.stopPropagation()}
        >
          {ride ? <Details ride={ride} /> : <List rides={snapshot.ridesNeedingAttention} onClose={close} />}
        </div>
      </div>
    </PaneLocale.Provider>
  );
}

function List(props: { rides: RideAttentionView[]; onClose(): void }) {
  const t = useT();
  const locale = useLocale();
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => closeRef.current?.focus(), []);
  return (
    <>
      <h2 id="attention-title">{t('attention.title')}</h2>
      {props.rides.length === 0 ? (
        <p className="hint" data-testid="attention-empty">
          {t('attention.empty')}
        </p>
      ) : (
        <>
          <p className="hint">{t('attention.hint')}</p>
          <ul className="attention-list" data-testid="attention-list">
            {props.rides.map((ride) => (
              <li key={ride.rideId}>
                <button
                  type="button"
                  className={`attention-row attention-${ride.status}`}
                  data-testid={`attention-row-${ride.rideId}`}
                  data-status={ride.status}
                  onClick={() => useUi.getState().openAttention(ride.rideId)}
                >
                  <span className="attention-time">{t('attention.rideAt', { time: formatTime(ride.startedAt, locale) })}</span>
                  <Money amount={ride.paidTotal ?? ride.orderAmount} currency={ride.currency} className="attention-amount" />
                  <StatusBadge ride={ride} />
                  <svg className="icon attention-chevron" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M9 5l7 7-7 7" fill="none" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" strokeLinejoin="round" />
                  </svg>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="dialog-actions dialog-actions-single">
        <button type="button" ref={closeRef} className="button button-secondary" data-testid="attention-close" onClick={props.onClose}>
          {t('attention.close')}
        </button>
      </div>
    </>
  );
}

const HINTS: Record<RideAttentionView['status'], MessageKey> = {
  open: 'attention.openHint',
  unconfirmed: 'attention.unconfirmedHint',
  failed: 'attention.failedHint',
  paid: 'attention.paidHint',
};

function StatusBadge(props: { ride: RideAttentionView }) {
  const t = useT();
  return (
    <span className={`attention-badge attention-badge-${props.ride.status}`} data-testid="attention-status">
      {t(ATTENTION_STATUS_KEYS[props.ride.status])}
    </span>
  );
}

function Details(props: { ride: RideAttentionView }) {
  const { ride } = props;
  const snapshot = useSnapshot();
  const t = useT();
  const locale = useLocale();
  const back = () => useUi.getState().openAttention(null);
  const backRef = useRef<HTMLButtonElement>(null);
  useEffect(() => backRef.current?.focus(), []);
  const key = ride.failure ? failureKey(ride.failure.code, snapshot.cab.capabilities) : null;
  const hint = t(HINTS[ride.status]);
  // Settled from the list: the next snapshot no longer has it, so the dialog returns to the list.
  const act = (command: Parameters<typeof run>[0]) => void run(command).then((ok) => ok && back());
  return (
    <div className="attention-details" data-testid="attention-detail" data-ride-id={ride.rideId}>
      <div className="attention-details-head">
        <h2 id="attention-title">{t('attention.rideAt', { time: formatTime(ride.startedAt, locale) })}</h2>
        <StatusBadge ride={ride} />
      </div>
      <OrderLines lines={ride.lines} currency={ride.currency} />
      <div className="attention-total">
        <span>{ride.paidTotal !== null ? t('paid.total') : t('ride.total')}</span>
        <Money amount={ride.paidTotal ?? ride.orderAmount} currency={ride.currency} testId="attention-total" />
      </div>
      {ride.status === 'failed' ? (
        <div className="notice notice-warning">
          <p data-testid="attention-failure" data-failure-code={ride.failure?.code ?? ''}>
            {key ? t(key) : (ride.failure?.message ?? t('failed.unknown'))}
          </p>
        </div>
      ) : null}
      <p className="hint">{hint}</p>
      {ride.outcomeAt ? <p className="hint attention-news">{t('attention.news', { time: formatTime(ride.outcomeAt, locale) })}</p> : null}
      <div className="dialog-actions attention-actions">
        <button type="button" ref={backRef} className="button button-secondary" data-testid="attention-back" onClick={back}>
          {t('attention.back')}
        </button>
        {ride.actions.includes('seen') ? (
          <button type="button" className="button button-secondary" data-testid="attention-seen" onClick={() => act((api) => api.markRideSeen(ride.rideId))}>
            {t('attention.seen')}
          </button>
        ) : null}
        {ride.actions.includes('paid_otherwise') ? (
          <button
            type="button"
            className="button button-primary"
            data-testid="attention-paid-otherwise"
            onClick={() => act((api) => api.markPaidOtherwise(ride.rideId))}
          >
            {t('attention.paidOtherwise')}
          </button>
        ) : null}
      </div>
    </div>
  );
}
