import { useEffect } from 'react';
import { driverLocale, PaneLocale, useLocale, useSnapshot, useT } from '../hooks.js';
import { formatTime, money } from '../i18n/index.js';
import { useUi } from '../state.js';

const NOTICE_MS = 15_000;

/**
 * News about a ride the driver left for the next fare: it has been paid, or its payment failed.
 * Over the driver's pane, in the driver's language; "Show" opens it in the rides that need attention.
 */
export function AttentionNotice() {
  const notice = useUi((ui) => ui.attentionNotice);
  const close = useUi((ui) => ui.closeAttentionNotice);
  const snapshot = useSnapshot();
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(close, NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice, close]);
  const ride = notice ? snapshot.ridesNeedingAttention.find((r) => r.rideId === notice.rideId) : null;
  if (!notice || !ride) return null;
  return (
    <PaneLocale.Provider value={driverLocale(snapshot)}>
      <Banner rideId={ride.rideId} outcome={notice.outcome} startedAt={ride.startedAt} amount={ride.paidTotal ?? ride.orderAmount} currency={ride.currency} onClose={close} />
    </PaneLocale.Provider>
  );
}

function Banner(props: { rideId: string; outcome: 'paid' | 'failed'; startedAt: string; amount: number; currency: string; onClose(): void }) {
  const t = useT();
  const locale = useLocale();
  const time = formatTime(props.startedAt, locale);
  const text =
    props.outcome === 'paid'
      ? t('attention.noticePaid', { time, amount: money(props.amount, props.currency, locale) })
      : t('attention.noticeFailed', { time });
  return (
    <div className={`attention-notice attention-notice-${props.outcome}`} role="status" data-testid="attention-notice" data-outcome={props.outcome} lang={locale}>
      <span className="attention-notice-text">{text}</span>
      <button type="button" className="button button-secondary attention-notice-show" data-testid="attention-notice-show" onClick={() => useUi.getState().openAttention(props.rideId)}>
        {t('attention.noticeShow')}
      </button>
      <button type="button" className="toast-close" onClick={props.onClose}>
        {t('toast.close')}
      </button>
    </div>
  );
}
