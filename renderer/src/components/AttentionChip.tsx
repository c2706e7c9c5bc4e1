import { useEffect } from 'react';
import { attentionButtonKey } from '../attention.js';
import { useLocale, useSnapshot, useT } from '../hooks.js';
import { formatTime, money } from '../i18n/index.js';
import { useUi } from '../state.js';

const NOTICE_MS = 15_000;

/**
 * In the header, never over the fare or the passenger's side: how many earlier rides need the
 * driver (tap: the list). When one of them has just been paid or has failed, the chip says so
 * for a while (tap: that ride).
 */
export function AttentionChip() {
  const { ridesNeedingAttention } = useSnapshot();
  const notice = useUi((ui) => ui.attentionNotice);
  const close = useUi((ui) => ui.closeAttentionNotice);
  const t = useT();
  const locale = useLocale();
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(close, NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice, close]);
  const ride = notice ? ridesNeedingAttention.find((r) => r.rideId === notice.rideId) : undefined;
  if (notice && ride) {
    const time = formatTime(ride.startedAt, locale);
    const text =
      notice.outcome === 'paid'
        ? t('attention.noticePaid', { time, amount: money(ride.paidTotal ?? ride.orderAmount, ride.currency, locale) })
        : t('attention.noticeFailed', { time });
    return (
      <button
        type="button"
        className={`pending-rides attention-notice attention-notice-${notice.outcome}`}
        aria-live="polite"
        data-testid="attention-notice"
        data-outcome={notice.outcome}
        onClick={() => useUi.getState().openAttention(ride.rideId)}
      >
        <span className="pending-count">{ridesNeedingAttention.length}</span>
        <span className="attention-notice-text">{text}</span>
      </button>
    );
  }
  if (ridesNeedingAttention.length === 0) return null;
  return (
    <button type="button" className="pending-rides" data-testid="attention-open" onClick={() => useUi.getState().openAttention()}>
      <span className="pending-count" data-testid="pending-rides">
        {ridesNeedingAttention.length}
      </span>
      <span className="pending-text">{t(attentionButtonKey(ridesNeedingAttention), { n: ridesNeedingAttention.length })}</span>
    </button>
  );
}
