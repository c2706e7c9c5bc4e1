import { useT } from '../hooks.js';

/** A passenger has scanned: calm, static, no animation. */
export function PassengerReady() {
  const t = useT();
  return (
    <div className="passenger-ready" data-testid="passenger-ready" role="status">
      <svg className="icon icon-lg" viewBox="0 0 24 24" aria-hidden="true">
        <circle cx="12" cy="8" r="4" fill="currentColor" />
        <path d="M4 21a8 8 0 0 1 16 0z" fill="currentColor" />
      </svg>
      <div>
        <strong>{t('passenger.ready')}</strong>
        <p>{t('passenger.readyHint')}</p>
      </div>
    </div>
  );
}
