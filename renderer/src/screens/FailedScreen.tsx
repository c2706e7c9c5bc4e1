import { run } from '../commands.js';
import { CabIdentity } from '../components/CabIdentity.js';
import { Money } from '../components/Money.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { StartNextRide } from '../components/StartNextRide.js';
import { useSnapshot, useDriverT, useT } from '../hooks.js';
import { failureKey } from '../screen.js';

/** The order failed or expired: the reason, and the ways on. */
export function FailedScreen() {
  const snapshot = useSnapshot();
  const t = useT();
  const dt = useDriverT();
  const ride = snapshot.ride;
  if (!ride) return null;
  const key = ride.failure ? failureKey(ride.failure.code) : null;
  return (
    <ScreenLayout
      screen="failed"
      driver={
        <div className="driver-stack">
          <h1 className="screen-title">{dt('failed.title')}</h1>
          <div className="notice notice-warning">
            <p data-testid="failure-reason" data-failure-code={ride.failure?.code ?? ''}>
              {key ? dt(key) : (ride.failure?.message ?? dt('failed.unknown'))}
            </p>
          </div>
          <div className="option">
            <strong>{dt('failed.scanAgain')}</strong>
            <p className="hint">{dt('failed.scanAgainHint')}</p>
          </div>
          <div className="grow" />
          <button
            type="button"
            className="button button-primary"
            data-testid="mark-paid-otherwise"
            onClick={() => void run((api) => api.markPaidOtherwise())}
          >
            <span>{dt('failed.paidOtherwise')}</span>
            <small className="button-sub">{dt('failed.paidOtherwiseHint')}</small>
          </button>
          <StartNextRide />
        </div>
      }
      passenger={
        <div className="passenger-stack">
          <CabIdentity heading={t('ended.scanToPay')}>
            <Money amount={ride.orderAmount} currency={ride.currency} testId="order-amount" className="amount-under-qr" />
          </CabIdentity>
        </div>
      }
    />
  );
}
