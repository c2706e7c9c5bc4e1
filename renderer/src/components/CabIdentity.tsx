import type { ReactNode } from 'react';
import { useSnapshot, useT } from '../hooks.js';
import { CabQr } from './CabQr.js';

/** The cab's label, id and plate as text: typed by hand, or checked against the sticker. */
export function CabIds() {
  const { cab } = useSnapshot();
  const t = useT();
  return (
    <p className="cab-ids">
      {cab.label && cab.label !== cab.cabId ? <span className="cab-label">{cab.label}</span> : null}
      <span className="cab-id" data-testid="cab-id">
        {cab.cabId}
      </span>
      <span className="cab-plate-wrap">
        <span className="visually-hidden">{t('idle.plate')} </span>
        <span className="cab-plate" data-testid="cab-plate">
          {cab.plate}
        </span>
      </span>
    </p>
  );
}

/**
 * The QR with the cab's id and plate as text under it: a passenger can type the id by hand
 * and check that the code belongs to this cab. A PSP without a static QR (a fresh QR per fare)
 * shows the cab's identity and says the QR comes at the end of the ride.
 */
export function CabIdentity(props: { heading: string; children?: ReactNode }) {
  const { cab } = useSnapshot();
  const t = useT();
  if (!cab.capabilities.staticQr) {
    return (
      <div className="cab-identity pay-at-end" data-testid="pay-at-end">
        {props.children}
        <div className="pay-at-end-note">
          {/* A phone with a bank on its screen: never squares a camera could take for a QR's finder patterns. */}
          <svg className="icon icon-xl" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeLinecap="round" strokeLinejoin="round">
            <rect x="5.5" y="1.5" width="13" height="21" rx="2.5" strokeWidth="1.8" />
            <path d="M10.5 4.5h3" strokeWidth="1.5" />
            <path d="M8 11l4-3 4 3z M8 16.5h8" strokeWidth="1.4" />
            <path d="M9.5 12v3M12 12v3M14.5 12v3" strokeWidth="1.4" />
            <circle cx="12" cy="19.5" r="0.9" fill="currentColor" stroke="none" />
          </svg>
          <div>
            <strong>{t('qr.payAtEnd')}</strong>
            <p>{t('qr.payAtEndHint', { app: cab.capabilities.displayName })}</p>
          </div>
        </div>
        <CabIds />
      </div>
    );
  }
  return (
    <div className="cab-identity">
      {cab.qrContent ? (
        <>
          <p className="scan-heading">{props.heading}</p>
          {props.children}
          <CabQr content={cab.qrContent} label={props.heading} />
        </>
      ) : (
        <>
          {props.children}
          <p className="no-qr">{t('idle.noQr')}</p>
        </>
      )}
      <CabIds />
    </div>
  );
}

/**
 * Under a static QR: when the relay makes the payment, the QR is a check-in that only the PSP's
 * own app reads, so the caption names it; otherwise any payment app or camera will do.
 */
export function ScanCaption() {
  const { cab } = useSnapshot();
  const t = useT();
  const text = cab.capabilities.relayMakesPayment ? t('qr.scanWithApp', { app: cab.capabilities.displayName }) : t('idle.scanHint');
  return (
    <p className="scan-hint" data-testid="scan-caption">
      {text}
    </p>
  );
}
