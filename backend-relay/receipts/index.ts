/**
 * Digital receipts at the relay: `receipt.publish` from the cab's socket stores one, and
 * `GET /receipts/:token` serves it as a printable page (docs/contracts.md). A receipt's totals are checked against
 * the payment the relay recorded (receipt-check.ts) before it is stored.
 */
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Locale } from '../../protocol/kiosk-api.js';
import { receiptPayload, receiptToken, receiptUrl, type ReceiptPublishAck } from '../../protocol/receipt.js';
import { tooManyFailures } from '../http/bearer-guard.js';
import type { FailureLimit } from '../rate-limits.js';
import type { RelayStore } from '../store/relay-store.js';
import { RECEIPT_PAGE_CSP, receiptNotFoundHtml, receiptPageHtml, type ReceiptIssuer } from './receipt-page.js';
import { paidPaymentReader } from '../store/paid-payments.js';
import { receiptProblem } from './receipt-check.js';
import { ReceiptStore } from './receipt-store.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

export interface RelayReceipts {
  /** Handles one `receipt.publish` from a connected, authenticated cab. */
  publish(cabId: string, raw: unknown): ReceiptPublishAck;
  /** Removes receipts first received more than the retention ago; returns how many. */
  prune(nowMs: number): number;
}

export interface ReceiptDeps {
  db: Database.Database;
  store: RelayStore;
  logger: Logger;
  issuer: ReceiptIssuer;
  /** The language of the 404 page (the receipt itself uses the passenger's). */
  locale: Locale;
  /** The relay's public base URL (RELAY_PUBLIC_URL, else where it listens). */
  baseUrl: () => string;
  /** Receipt pages not found, per address. */
  misses?: FailureLimit;
  /** Per cab: the largest receipt and how many are kept. */
  limits?: { maxBytes: number; maxKept: number };
  /** How long a receipt link works, from its first publish. */
  retentionMs?: number;
  /** A cab went past a receipt limit (metrics, alert). */
  onLimited?(cabId: string, kind: string, detail: Record<string, unknown>): void;
}

export function registerReceipts(app: FastifyInstance, deps: ReceiptDeps): RelayReceipts {
  const receipts = new ReceiptStore(deps.db);
  const paid = paidPaymentReader(deps.db);

  app.get<{ Params: { token: string } }>('/receipts/:token', async (req, reply) => {
    // The token is the only secret in the URL: keep it out of referrers and search engines.
    // (Every HTML page also gets the relay's framing and sniffing headers: http/security-headers.ts.)
    reply.header('Referrer-Policy', 'no-referrer').header('X-Robots-Tag', 'noindex').header('Cache-Control', 'private, no-cache');
    reply.header('Content-Security-Policy', RECEIPT_PAGE_CSP);
    // Guessing tokens is refused once an address has missed too often (an honest link never misses).
    const wait = deps.misses ? await deps.misses.retryAfterS(req.ip) : 0;
    if (wait > 0) return tooManyFailures(reply, wait, 'receipt links not found');
    const token = receiptToken.safeParse(req.params.token);
    const found = token.success ? receipts.get(token.data) : null;
    if (!found) {
      await deps.misses?.failed(req.ip);
      return reply.code(404).type('text/html; charset=utf-8').send(receiptNotFoundHtml(deps.locale));
    }
    const cab = await deps.store.getCab(found.cabId);
    const html = receiptPageHtml(found.payload, { cabId: found.cabId, plate: cab?.plate ?? '—', label: cab?.label ?? found.cabId }, deps.issuer);
    return reply.type('text/html; charset=utf-8').send(html);
  });

  return {
    publish(cabId, raw) {
      const parsed = receiptPayload.safeParse(raw);
      if (!parsed.success) {
        const detail = zodIssuesText(parsed.error, { limit: 5 });
        return { ok: false, error: { code: 'invalid', message: `receipt.publish rejected: ${detail}` } };
      }
      const payload = parsed.data;
      if (payload.merchantOrderId !== `${cabId}.${payload.rideId}`) {
        deps.logger.warn({ cabId, merchantOrderId: payload.merchantOrderId }, 'receipt for another cab refused');
        return { ok: false, error: { code: 'forbidden', message: `the order id must be ${cabId}.<rideId>: a cab publishes only its own receipts` } };
      }
      const problem = receiptProblem(cabId, payload, paid);
      if (problem) {
        deps.logger.warn({ cabId, rideId: payload.rideId, method: payload.method, problem }, 'receipt refused: it does not match the relay’s records');
        return { ok: false, error: { code: 'invalid', message: `receipt.publish rejected: ${problem}` } };
      }
      const limits = deps.limits ?? { maxBytes: Number.POSITIVE_INFINITY, maxKept: Number.POSITIVE_INFINITY };
      const bytes = Buffer.byteLength(JSON.stringify(payload));
      if (bytes > limits.maxBytes) {
        deps.onLimited?.(cabId, 'receipt_size', { rideId: payload.rideId, bytes });
        return {
          ok: false,
          error: { code: 'invalid', message: `receipt.publish rejected: the receipt is ${bytes} bytes, more than the ${limits.maxBytes} a receipt may have` },
        };
      }
      const saved = receipts.save(cabId, payload, new Date().toISOString(), { maxKept: limits.maxKept });
      if (!saved.ok && saved.error.code === 'quota_exceeded') deps.onLimited?.(cabId, 'receipts_kept', { rideId: payload.rideId });
      if (!saved.ok) return saved;
      const url = receiptUrl(deps.baseUrl(), payload.token);
      deps.logger.info({ cabId, rideId: payload.rideId }, 'receipt stored');
      return { ok: true, value: { url } };
    },
    prune(nowMs) {
      if (deps.retentionMs === undefined) return 0;
      return receipts.prune(new Date(nowMs - deps.retentionMs).toISOString());
    },
  };
}
