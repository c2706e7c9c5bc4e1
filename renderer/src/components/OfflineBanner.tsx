import { formatDuration } from '../i18n/index.js';
import { useLocale, useNow, useSnapshot, useT } from '../hooks.js';

/** Shown whenever the relay link is not up: how long, how much is queued, and that nothing is paid yet. */
export function OfflineBanner() {
  const { connectivity } = useSnapshot();
  return connectivity.relay === 'online' ? null : <Banner />;
}

/** Only mounted while offline, so the ticking clock runs only then. */
function Banner() {
  const { connectivity, outboxDepth } = useSnapshot();
  const t = useT();
  const locale = useLocale();
  const now = useNow(5_000);
  const since = connectivity.offlineSince ? Date.parse(connectivity.offlineSince) : Number.NaN;
  const headline = Number.isNaN(since) ? t('offline.connecting') : t('offline.since', { duration: formatDuration(now.getTime() - since, locale) });
  return (
    <div className="offline-banner" data-testid="offline-banner" role="status">
      <svg className="icon" viewBox="0 0 24 24" aria-hidden="true">
        <path
          d="M2 8.5a15 15 0 0 1 20 0M5.5 12a10 10 0 0 1 13 0M9 15.5a5 5 0 0 1 6 0"
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
          strokeLinecap="round"
        />
        <circle cx="12" cy="19" r="1.6" fill="currentColor" />
        <path d="M3 3l18 18" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
      </svg>
      <strong className="offline-headline">{headline}</strong>
      {connectivity.problem === 'unauthorized' ? (
        <span className="offline-problem" data-testid="connectivity-problem">
          {t('conn.unauthorized')}
        </span>
      ) : null}
      <span className="offline-queued">
        <span data-testid="outbox-depth" className="outbox-depth">
          {outboxDepth}
        </span>{' '}
        {t('offline.queued', { n: outboxDepth })}
      </span>
      <span className="offline-pending">{t('offline.pending')}</span>
    </div>
  );
}
