/**
 * What each PSP asks of the tablet. The ride machine and the UI read these flags and never
 * branch on the PSP's name, so a new PSP is a new row here plus its adapters.
 */
import type { PspName } from './relay-protocol.js';

export interface PspCapabilities {
  /** The name the passenger knows, shown beside the QR. */
  displayName: string;
  /** The cab shows a static QR the passenger scans before (or during) the ride. */
  staticQr: boolean;
  /** A payment needs a live passenger session (a scan/check-in) before it can be sent. */
  needsScanSession: boolean;
  /** The passenger picks the tip on the tablet before the payment is sent (else in their app). */
  tipOnTablet: boolean;
  /** The relay makes the PSP calls (payment.request); otherwise the tablet calls the PSP itself. */
  relayMakesPayment: boolean;
  /** The relay sends the QR to pay as `payment.qr`; the tablet shows it large with a countdown. */
  dynamicQr: boolean;
}

export const PSP_CAPABILITIES: Record<PspName, PspCapabilities> = {
  hips: { displayName: 'Hips', staticQr: true, needsScanSession: true, tipOnTablet: false, relayMakesPayment: false, dynamicQr: false },
  vipps: { displayName: 'Vipps MobilePay', staticQr: true, needsScanSession: true, tipOnTablet: true, relayMakesPayment: true, dynamicQr: false },
  hitpay: { displayName: 'PayNow', staticQr: false, needsScanSession: false, tipOnTablet: true, relayMakesPayment: true, dynamicQr: true },
};

/** Tip presets offered on the tablet, in percent of the order amount (fare plus extras). */
export const TIP_PRESETS_PERCENT = [0, 5, 10, 15, 20] as const;
