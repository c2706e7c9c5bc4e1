import type { RideView } from '../../../protocol/kiosk-api.js';
import { useNow, useSnapshot, useT } from '../hooks.js';
import { mmss, rideTip, secondsLeft } from '../payment.js';
import { CabIds } from './CabIdentity.js';
import { CabQr } from './CabQr.js';
import { Money } from './Money.js';

/** Fare, tip and total, one per line, the total largest: what the passenger is about to pay. */
export function PaySummary(props: { ride: RideView; total: number; currency: string }) {
  const t = useT();
  return (
    <div className="pay-summary">
      <span>{t('paid.fare')}</span>
      <Money amount={props.ride.orderAmount} currency={props.currency} testId="pay-fare" />
      <span>{t('paid.tip')}</span>
      <Money amount={rideTip(props.ride)} currency={props.currency} testId="pay-tip" />
      <span className="pay-summary-total-label">{t('ride.total')}</span>
      <Money amount={props.total} currency={props.currency} testId="pay-total" className="pay-summary-total" />
    </div>
  );
}

/**
 * The relay's QR for this ride (PSPs with dynamicQr), large, with the amounts beside it and a
 * countdown to its expiry; at 0 it gives way to "QR expired" (the core then fails the ride
 * when the relay says so, and the driver makes a new one).
 */
export function DynamicQrPanel() {
  const snapshot = useSnapshot();
  const t = useT();
  const now = useNow(1_000);
  const ride = snapshot.ride;
  const qr = ride?.paymentQr;
  if (!ride || !qr) return null;
  const app = snapshot.cab.capabilities.displayName;
  const left = secondsLeft(qr.expiresAt, now.getTime());
  if (left === 0) {
    return (
      <div className="dynamic-qr is-expired" data-testid="qr-expired" role="status">
        <p className="scan-heading">{t('qr.expired')}</p>
        <p className="qr-expired-hint">{t('qr.expiredHint')}</p>
        <PaySummary ride={ride} total={qr.amount} currency={qr.currency} />
        <CabIds />
      </div>
    );
  }
  return (
    <div className="dynamic-qr" data-testid="dynamic-qr">
      <p className="scan-heading">{t('qr.scanBanking', { app })}</p>
      <div className="dynamic-qr-row">
        <CabQr content={qr.qrData} label={t('qr.scanBanking', { app })} testId="payment-qr" className="payment-qr" />
        <div className="dynamic-qr-side">
          <PaySummary ride={ride} total={qr.amount} currency={qr.currency} />
          <div className={`qr-countdown ${left <= 60 ? 'is-ending' : ''}`}>
            <span className="amount-label">{t('qr.validFor')}</span>
            <span className="qr-countdown-time" data-testid="qr-countdown" role="timer">
              {mmss(left)}
            </span>
          </div>
        </div>
      </div>
      <CabIds />
    </div>
  );
}

/** A dynamic-QR PSP before the relay has sent the QR: the request is on its way (or queued offline). */
export function PreparingQr() {
  const snapshot = useSnapshot();
  const t = useT();
  const ride = snapshot.ride;
  if (!ride) return null;
  const offline = snapshot.connectivity.relay !== 'online';
  return (
    <div className="dynamic-qr is-preparing" data-testid="qr-preparing" role="status">
      <div className="qr-placeholder" aria-hidden="true" />
      <p className="scan-heading">{t('qr.preparing')}</p>
      {offline ? <p className="qr-expired-hint">{t('qr.preparingOffline')}</p> : null}
      <PaySummary ride={ride} total={ride.orderAmount + rideTip(ride)} currency={ride.currency} />
      <CabIds />
    </div>
  );
}
