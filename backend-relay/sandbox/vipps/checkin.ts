/**
 * Merchant callback QR codes and check-ins: a scan of a QR's `qrContent` makes a fresh customer
 * token and fires `user.checked-in.v1` to the merchant's webhooks, in one transaction.
 */
import { randomBytes } from 'node:crypto';
import type { VippsDeliverer } from './delivery.js';
import { commitWithDeliveries } from './epayment.js';
import { invalidRequest, VippsProblem } from './problem.js';
import type { VippsSettings } from './settings.js';
import { nowIso, type QrRow, type VippsStore } from './store.js';

export const CHECKED_IN_EVENT = 'user.checked-in.v1';

/** What a phone camera opens: the sandbox's own page, so any host that reaches it works. */
export const qrContentOf = (publicUrl: string, msn: string, merchantQrId: string) =>
  `${publicUrl}/vipps/qr/${encodeURIComponent(msn)}/${encodeURIComponent(merchantQrId)}`;

export function qrView(publicUrl: string, qr: QrRow, imageFormat: 'SVG' | 'PNG' = 'SVG', imageSize?: number) {
  const size = imageFormat === 'PNG' ? `?size=${imageSize ?? 1024}` : '';
  return {
    merchantSerialNumber: qr.msn,
    merchantQrId: qr.merchant_qr_id,
    locationDescription: qr.location_description,
    qrImageUrl: `${publicUrl}/vipps/qr-image/${encodeURIComponent(qr.msn)}/${encodeURIComponent(qr.merchant_qr_id)}.${imageFormat.toLowerCase()}${size}`,
    qrContent: qrContentOf(publicUrl, qr.msn, qr.merchant_qr_id),
  };
}

/** Reads `<any base>/vipps/qr/<msn>/<merchantQrId>` (a pasted URL or what the camera saw). */
export function parseQrContent(qrContent: string): { msn: string; merchantQrId: string } {
  let path: string;
  try {
    path = new URL(qrContent.trim()).pathname;
  } catch {
    path = qrContent.trim();
  }
  const match = /\/vipps\/qr\/([^/]+)\/([^/?#]+)\/?$/.exec(path);
  if (!match) {
    throw invalidRequest('Invalid QR content', 'This is not a sandbox merchant callback QR: expected <sandbox>/vipps/qr/<msn>/<merchantQrId>.', [
      { name: 'qrContent', reason: 'not a merchant callback QR' },
    ]);
  }
  return { msn: decodeURIComponent(match[1]!), merchantQrId: decodeURIComponent(match[2]!) };
}

export function checkIn(store: VippsStore, deliverer: VippsDeliverer, settings: VippsSettings, qrContent: string) {
  const { msn, merchantQrId } = parseQrContent(qrContent);
  return commitWithDeliveries(store, deliverer, (emit) => {
    const qr = store.qr(msn, merchantQrId);
    if (!qr) {
      throw new VippsProblem(404, 'QR not found', `The QR code "${merchantQrId}" of merchant ${msn} does not exist (deleted?).`);
    }
    const customerToken = randomBytes(47).toString('base64');
    const initiatedAt = nowIso();
    const expiresAtMs = Date.now() + settings.checkInTokenTtlSeconds * 1000;
    store.insertCheckIn({ customer_token: customerToken, msn, merchant_qr_id: merchantQrId, initiated_at: initiatedAt, expires_at_ms: expiresAtMs });
    emit(deliverer.enqueue(msn, CHECKED_IN_EVENT, null, { customerToken, merchantQrId, msn, initiatedAt }));
    return {
      customerToken,
      merchantQrId,
      msn,
      locationDescription: qr.location_description,
      initiatedAt,
      expiresAt: new Date(expiresAtMs).toISOString(),
    };
  });
}
