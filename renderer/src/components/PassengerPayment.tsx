import type { ReactNode } from 'react';
import { useDriverT, useNow, useSnapshot, useT } from '../hooks.js';
import { passengerView, type PassengerView } from '../payment.js';
import { CabIds } from './CabIdentity.js';
import { DynamicQrPanel, PreparingQr } from './DynamicQr.js';
import { Money } from './Money.js';
import { TipPicker } from './TipPicker.js';

/** Re-evaluated every second, so a dynamic QR's expiry shows on both sides without a push. */
export function usePassengerView(): PassengerView {
  const snapshot = useSnapshot();
  const now = useNow(1_000);
  return passengerView(snapshot, now.getTime());
}

/** Views that need the wider passenger pane. */
export function isWideView(view: PassengerView): boolean {
  return view === 'pick_tip' || view === 'dynamic_qr' || view === 'qr_expired' || view === 'preparing_qr';
}

/**
 * The passenger's side of a ride being paid: the tip picker, the dynamic QR (or its
 * preparation), a failed dynamic-QR payment; `fallback` is the screen's own static-QR or
 * approve-in-app view.
 */
export function PassengerPayment(props: { view: PassengerView; fallback: ReactNode }) {
  switch (props.view) {
    case 'pick_tip':
      return <TipPicker />;
    case 'dynamic_qr':
    case 'qr_expired':
      return <DynamicQrPanel />;
    case 'preparing_qr':
      return <PreparingQr />;
    case 'failed_no_qr':
    case 'failed_send_again':
      return <PaymentNotCompleted view={props.view} />;
    case 'approve_in_app':
    case 'scan_static':
      return <>{props.fallback}</>;
  }
}

/** A failed payment the driver can retry: nothing to scan; the driver makes a new QR or sends the request again. */
function PaymentNotCompleted(props: { view: 'failed_no_qr' | 'failed_send_again' }) {
  const snapshot = useSnapshot();
  const t = useT();
  const ride = snapshot.ride;
  if (!ride) return null;
  const total = ride.paymentQr?.amount ?? ride.orderAmount + (ride.tipAmount ?? 0);
  return (
    <div className="dynamic-qr is-expired" data-testid="payment-not-completed">
      <p className="scan-heading">{t('failed.title')}</p>
      <Money amount={total} currency={ride.currency} testId="order-amount" className="amount-under-qr" />
      <p className="qr-expired-hint">{props.view === 'failed_no_qr' ? t('qr.expiredHint') : t('failed.sendAgainPassengerHint')}</p>
      <CabIds />
    </div>
  );
}

/** What the driver's side says while the passenger's side shows a tip picker or a dynamic QR. */
export function DriverPaymentNotice(props: { view: PassengerView }) {
  const snapshot = useSnapshot();
  const dt = useDriverT();
  switch (props.view) {
    case 'pick_tip':
      return (
        <div className="notice notice-info" role="status" data-testid="payment-status">
          <strong>{dt('tip.driverTitle')}</strong>
          <p>{dt('tip.driverHint')}</p>
        </div>
      );
    case 'preparing_qr': {
      const offline = snapshot.connectivity.relay !== 'online';
      return (
        <div className={`notice ${offline ? 'notice-warning' : 'notice-info'}`} role="status" data-testid="payment-status">
          {offline ? dt('awaiting.queued') : dt('qr.driverPreparing')}
        </div>
      );
    }
    case 'dynamic_qr':
      return (
        <div className="notice notice-info" role="status" data-testid="payment-status">
          {dt('qr.driverShown')}
        </div>
      );
    case 'qr_expired':
      return (
        <div className="notice notice-warning" role="status" data-testid="payment-status">
          {dt('qr.driverExpired')}
        </div>
      );
    default:
      return null;
  }
}
