import { useState } from 'react';
import { run } from '../commands.js';
import { CabIdentity } from '../components/CabIdentity.js';
import { CancelRide } from '../components/CancelRide.js';
import { Money } from '../components/Money.js';
import { isWideView, PassengerPayment, usePassengerView } from '../components/PassengerPayment.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { StartNextRide } from '../components/StartNextRide.js';
import { useSnapshot, useDriverT, useT } from '../hooks.js';
import { canRetryPayment } from '../payment.js';
import { failureKey } from '../screen.js';

/** The order failed or expired: the reason, and the ways on. */
export function FailedScreen() {
  const snapshot = useSnapshot();
  const t = useT();
  const dt = useDriverT();
  const view = usePassengerView();
  const [retrying, setRetrying] = useState(false);
  const ride = snapshot.ride;
  if (!ride) return null;
  const key = ride.failure ? failureKey(ride.failure.code, snapshot.cab.capabilities) : null;
  const caps = snapshot.cab.capabilities;
  const retry = canRetryPayment(snapshot);
  return (
    <ScreenLayout
      screen="failed"
      wide={isWideView(view)}
      driver={
        <div className="driver-stack">
          <h1 className="screen-title">{dt('failed.title')}</h1>
          <div className="notice notice-warning">
            <p data-testid="failure-reason" data-failure-code={ride.failure?.code ?? ''}>
              {key ? dt(key) : (ride.failure?.message ?? dt('failed.unknown'))}
            </p>
          </div>
          {caps.staticQr && !retry ? (
            <div className="option">
              <strong>{dt('failed.scanAgain')}</strong>
              <p className="hint">{dt('failed.scanAgainHint')}</p>
            </div>
          ) : null}
          <div className="grow" />
          {retry ? (
            <button
              type="button"
              className="button button-primary button-huge"
              data-testid="retry-payment"
              disabled={retrying}
              onClick={() => {
                // One tap, one new attempt: a second tap would only start yet another.
                setRetrying(true);
                void run((api) => api.retryPayment()).finally(() => setRetrying(false));
              }}
            >
              <span>{caps.dynamicQr ? dt('failed.retryQr') : dt('failed.retrySend')}</span>
              <small className="button-sub">{caps.dynamicQr ? dt('failed.retryQrHint') : dt('failed.retrySendHint')}</small>
            </button>
          ) : null}
          <button
            type="button"
            className={`button ${retry ? 'button-secondary' : 'button-primary'}`}
            data-testid="mark-paid-otherwise"
            onClick={() => void run((api) => api.markPaidOtherwise())}
          >
            <span>{dt('failed.paidOtherwise')}</span>
            <small className="button-sub">{dt('failed.paidOtherwiseHint')}</small>
          </button>
          {/* The core allows it once nothing can be paid any more: no order, or a relay-made payment the relay has ended. */}
          {ride.order !== 'created' || caps.relayMakesPayment ? <CancelRide /> : null}
          <StartNextRide />
        </div>
      }
      passenger={
        <div className="passenger-stack">
          <PassengerPayment
            view={view}
            fallback={
              <CabIdentity heading={t('ended.scanToPay')}>
                <Money amount={ride.orderAmount + (ride.tipAmount ?? 0)} currency={ride.currency} testId="order-amount" className="amount-under-qr" />
              </CabIdentity>
            }
          />
        </div>
      }
    />
  );
}
