import { run } from '../commands.js';
import { CabIdentity } from '../components/CabIdentity.js';
import { CancelRide } from '../components/CancelRide.js';
import { Money } from '../components/Money.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { StartNextRide } from '../components/StartNextRide.js';
import { DriverPaymentNotice, isWideView, PassengerPayment, usePassengerView } from '../components/PassengerPayment.js';
import { useLocale, useSnapshot, useDriverT, useT } from '../hooks.js';
import { money } from '../i18n/index.js';
import { failureKey, sessionProblem } from '../screen.js';

/** The ride is over and the fare set; the passenger has yet to scan (or must scan again). */
export function EndedScreen() {
  const snapshot = useSnapshot();
  const t = useT();
  const dt = useDriverT();
  const locale = useLocale();
  const view = usePassengerView();
  const ride = snapshot.ride;
  if (!ride) return null;
  const problem = sessionProblem(snapshot);
  const key = ride.failure ? failureKey(ride.failure.code, snapshot.cab.capabilities) : null;
  // With a tip picked on the tablet, the QR asks for fare plus tip.
  const toPay = ride.orderAmount + (ride.tipAmount ?? 0);
  const caps = snapshot.cab.capabilities;
  const heading =
    caps.tipOnTablet && ride.tipAmount !== null
      ? t('pay.scanToPay', { app: caps.displayName, amount: money(toPay, ride.currency, locale) })
      : t('ended.scanToPay');
  const notice = <DriverPaymentNotice view={view} />;
  return (
    <ScreenLayout
      screen="ended"
      wide={isWideView(view)}
      driver={
        <div className="driver-stack">
          <h1 className="screen-title">{dt('ended.title')}</h1>
          {ride.failure || problem ? (
            <div className="notice notice-warning" data-testid="session-problem" role="status">
              {ride.failure ? (
                // The reason, worded here from the core's code, already says what to do.
                <p data-testid="failure-reason" data-failure-code={ride.failure.code}>
                  {key ? dt(key) : ride.failure.message}
                </p>
              ) : (
                <>
                  <strong>{problem ? dt(`session.${problem}`) : ''}</strong>
                  <p>{dt('session.scanAgain')}</p>
                </>
              )}
            </div>
          ) : view === 'scan_static' ? (
            <p className="hint">{dt('ended.waiting')}</p>
          ) : (
            notice
          )}
          <div className="amount-block">
            <span className="amount-label">{dt('ended.toPay')}</span>
            <Money amount={toPay} currency={ride.currency} testId="order-amount" className="amount-large" />
          </div>
          <div className="grow" />
          <button
            type="button"
            className="button button-secondary"
            data-testid="mark-paid-otherwise"
            onClick={() => void run((api) => api.markPaidOtherwise())}
          >
            <span>{dt('failed.paidOtherwise')}</span>
            <small className="button-sub">{dt('failed.paidOtherwiseHint')}</small>
          </button>
          <div className="button-row">
            <CancelRide />
            <StartNextRide />
          </div>
        </div>
      }
      passenger={
        <div className="passenger-stack">
          <PassengerPayment
            view={view}
            fallback={
              <CabIdentity heading={heading}>
                {caps.tipOnTablet && ride.tipAmount !== null ? null : <Money amount={toPay} currency={ride.currency} className="amount-under-qr" />}
              </CabIdentity>
            }
          />
        </div>
      }
    />
  );
}
