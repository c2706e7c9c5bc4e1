import type { ReactNode } from 'react';
import { useSnapshot, useT } from '../hooks.js';
import { CabQr } from './CabQr.js';

/**
 * The QR with the cab's id and plate as text under it: a passenger can type the id by hand
 * and check that the code belongs to this cab.
 */
export function CabIdentity(props: { heading: string; children?: ReactNode }) {
  const { cab } = useSnapshot();
  const t = useT();
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
      <p className="cab-ids">
        {cab.label && cab.label !== cab.cabId ? <span className="cab-label">{cab.label}</span> : null}
        <span className="cab-id" data-testid="cab-id">{cab.cabId}</span>
        <span className="cab-plate-wrap">
          <span className="visually-hidden">{t('idle.plate')} </span>
          <span className="cab-plate" data-testid="cab-plate">{cab.plate}</span>
        </span>
      </p>
    </div>
  );
}
