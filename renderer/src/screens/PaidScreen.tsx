import { run } from '../commands.js';
import { Money } from '../components/Money.js';
import { CabQr } from '../components/CabQr.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { StartNextRide } from '../components/StartNextRide.js';
import { formatTime } from '../i18n/index.js';
import { useLocale, useSnapshot, useDriverT, useT } from '../hooks.js';
import { paidOtherwise } from '../screen.js';

/** Confirmed by the PSP (or marked as paid another way): fare + tip = total, large. */
export function PaidScreen() {
  const snapshot = useSnapshot();
  const t = useT();
  const dt = useDriverT();
  const locale = useLocale();
  const ride = snapshot.ride;
  if (!ride) return null;
  const payment = snapshot.payment?.rideId === ride.rideId ? snapshot.payment : null;
  const otherwise = paidOtherwise(snapshot);
  const currency = payment?.currency ?? ride.currency;
  const fare = payment?.orderAmount ?? ride.orderAmount;
  const tip = payment?.tipAmount ?? 0;
  const total = payment?.totalAmount ?? ride.orderAmount;
  return (
    <ScreenLayout
      screen="paid"
      driver={
        <div className="driver-stack">
          <h1 className="screen-title">{otherwise ? dt('paid.otherwise') : dt('paid.title')}</h1>
          {payment ? <p className="hint">{dt('paid.at', { time: formatTime(payment.paidAt, locale) })}</p> : null}
          <div className="grow" />
          <button type="button" className="button button-primary button-huge" data-testid="dismiss" onClick={() => void run((api) => api.dismiss())}>
            {dt('paid.newRide')}
          </button>
          <StartNextRide />
        </div>
      }
      passenger={
        <div className="passenger-stack paid">
          <svg className="paid-check" viewBox="0 0 48 48" aria-hidden="true">
            <circle cx="24" cy="24" r="22" fill="none" stroke="currentColor" strokeWidth="3" />
            <path d="M14 25l7 7 14-15" fill="none" stroke="currentColor" strokeWidth="4" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          <div className="paid-table">
            <span>{t('paid.fare')}</span>
            <Money amount={fare} currency={currency} testId="paid-fare" />
            <span>{t('paid.tip')}</span>
            <Money amount={tip} currency={currency} testId="paid-tip" />
            <span className="paid-total-label">{t('paid.total')}</span>
            <Money amount={total} currency={currency} testId="paid-total" className="paid-total" />
          </div>
          {payment?.receiptUrl ? (
            <figure className="receipt">
              <CabQr content={payment.receiptUrl} label={t('paid.receipt')} testId="receipt-qr" className="receipt-qr" />
              <figcaption>
                <strong>{t('paid.receipt')}</strong>
                <span className="hint">{t('paid.receiptHint')}</span>
              </figcaption>
            </figure>
          ) : null}
          <p className="thanks">{t('paid.thanks')}</p>
        </div>
      }
    />
  );
}
