import type { RideView } from '../../../protocol/kiosk-api.js';
import { maxTip } from '../../../protocol/money.js';
import { Money } from '../components/Money.js';
import { DriverPaymentNotice, isWideView, PassengerPayment, usePassengerView } from '../components/PassengerPayment.js';
import { OrderLines } from '../components/OrderLines.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { StartNextRide } from '../components/StartNextRide.js';
import { vatByRate } from '../fare.js';
import { formatPercent, formatTime, money } from '../i18n/index.js';
import { useLocale, useNow, useSnapshot, useDriverT, useT } from '../hooks.js';
import { mmss, secondsLeft } from '../payment.js';

/** The passenger has the order in their app: the itemized fare, and what they may add as tip. */
export function AwaitingPaymentScreen() {
  const snapshot = useSnapshot();
  const t = useT();
  const dt = useDriverT();
  const locale = useLocale();
  const view = usePassengerView();
  const ride = snapshot.ride;
  if (!ride) return null;
  const { currency, orderAmount } = ride;
  // A tip picked on the tablet is part of the request; otherwise the passenger may add one in the app.
  const tipPicked = snapshot.cab.capabilities.tipOnTablet && ride.tipAmount !== null ? ride.tipAmount : null;
  const allowTip = snapshot.session?.allowTip ?? true;
  const online = snapshot.connectivity.relay === 'online';
  // "Queued" is only worth a warning while offline; online it is about to go out.
  const held = ride.order !== 'created' && !online;
  const statusKey = ride.order === 'created' ? 'awaiting.waiting' : held ? 'awaiting.queued' : 'awaiting.sending';
  const status = t(statusKey);
  return (
    <ScreenLayout
      screen="awaiting_payment"
      wide={isWideView(view)}
      driver={
        <div className="driver-stack">
          {/* "Passenger ready" is about a scanned passenger; a tip or a dynamic QR is not that. */}
          <h1 className="screen-title">{view === 'approve_in_app' || view === 'scan_static' ? dt('awaiting.title') : dt('ended.title')}</h1>
          {view === 'approve_in_app' || view === 'scan_static' ? (
            <div className={`notice ${held ? 'notice-warning' : 'notice-info'}`} role="status" data-testid="payment-status">
              {dt(statusKey)}
            </div>
          ) : (
            <DriverPaymentNotice view={view} />
          )}
          <div className="amount-block">
            <span className="amount-label">{dt('awaiting.orderAmount')}</span>
            <Money amount={orderAmount + (tipPicked ?? 0)} currency={currency} className="amount-large" />
          </div>
          {ride.order === 'created' && ride.paymentExpiresAt ? (
            <PaymentDeadline expiresAt={ride.paymentExpiresAt} />
          ) : snapshot.session?.state === 'in_use' ? (
            <p className="hint">{dt('awaiting.validUntil', { time: formatTime(snapshot.session.expiresAt, locale) })}</p>
          ) : null}
          <div className="grow" />
          <StartNextRide />
        </div>
      }
      passenger={
        <div className="passenger-stack">
          <PassengerPayment
            view={view}
            fallback={
              tipPicked === null ? (
                <>
                  <h2 className="passenger-title">{t('ended.toPay')}</h2>
                  <div className="bill">
                    <OrderLines lines={ride.lines} currency={currency} />
                    <div className="bill-total">
                      <span>{t('awaiting.orderAmount')}</span>
                      <Money amount={orderAmount} currency={currency} testId="order-amount" className="total-amount" />
                    </div>
                    <VatLines ride={ride} />
                  </div>
                  <p className="tip-note" data-testid="tip-note">
                    {allowTip ? t('awaiting.tipNote', { amount: money(orderAmount, currency, locale) }) : t('awaiting.noTip')}
                  </p>
                  {allowTip ? (
                    <p className="tip-cap">
                      {t('awaiting.maxTip')}: <Money amount={maxTip(orderAmount)} currency={currency} testId="max-tip" />
                    </p>
                  ) : null}
                  <p className="waiting-approval">{ride.order === 'created' ? t('awaiting.waiting') : status}</p>
                </>
              ) : (
                // The tip is part of the request: the total is what the passenger approves, so it
                // dominates; the fare and the tip are the smaller lines that add up to it.
                <>
                  <h2 className="passenger-title passenger-title-strong">{t('pay.approve')}</h2>
                  <div className="bill">
                    {/* A fare alone would only repeat the line under it. */}
                    {ride.lines.length > 1 ? <OrderLines lines={ride.lines} currency={currency} /> : null}
                    <div className="bill-subtotal">
                      <span>{t('paid.fare')}</span>
                      <Money amount={orderAmount} currency={currency} testId="order-amount" />
                    </div>
                    <VatLines ride={ride} />
                    <div className="bill-subtotal">
                      <span>{t('paid.tip')}</span>
                      <Money amount={tipPicked} currency={currency} testId="pay-tip" />
                    </div>
                    <div className="bill-total bill-grand-total">
                      <span>{t('ride.total')}</span>
                      <Money amount={orderAmount + tipPicked} currency={currency} testId="pay-total" className="total-amount" />
                    </div>
                  </div>
                  {/* The heading already asks for the approval; only a held or outgoing request needs saying. */}
                  {ride.order === 'created' ? null : <p className="waiting-approval">{status}</p>}
                </>
              )
            }
          />
        </div>
      }
    />
  );
}

/** When the payment under way ends if nobody pays, and what the driver can do then. */
function PaymentDeadline(props: { expiresAt: string }) {
  const dt = useDriverT();
  const locale = useLocale();
  const now = useNow(1_000);
  const left = mmss(secondsLeft(props.expiresAt, now.getTime()));
  return (
    <p className="notice notice-info payment-deadline" data-testid="payment-deadline" role="timer">
      {dt('awaiting.deadline', { left, time: formatTime(props.expiresAt, locale) })}
    </p>
  );
}

/** "of which VAT 12 %" per rate, under the fare. */
function VatLines(props: { ride: RideView }) {
  const t = useT();
  const locale = useLocale();
  return (
    <>
      {vatByRate(props.ride.lines).map((vat) => (
        <div key={vat.ratePercent} className="bill-vat">
          <span>{t('awaiting.vat', { rate: formatPercent(vat.ratePercent, locale) })}</span>
          <Money amount={vat.vatMinor} currency={props.ride.currency} />
        </div>
      ))}
    </>
  );
}
