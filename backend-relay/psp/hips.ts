/**
 * Hips: RS256 JWT webhooks (docs/relay.md, Webhooks). Only the verified `data` claim is used; the
 * readable body fields next to `jwt` are ignored because anyone could have written them.
 */
import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { HIPS_ISSUER, hipsOrderHookData, hipsQrHookData, hipsWebhookBody, type HipsOrderHookData, type HipsQrHookData } from '../../protocol/hips.js';
import type { PspOrderFacts } from '../payments/payment-provider.js';
import type { HookVerdict, MappedEvent, PspAdapter } from './psp-adapter.js';
import { importRs256PublicKey, verifyRs256Jwt } from './rs256-jwt.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

/** Hips' clocks and ours may disagree a little; more than this is a stale or forged token. */
export const HIPS_CLOCK_TOLERANCE_S = 300;
/**
 * The longest a Hips webhook token may live (`exp` at most this far ahead, `iat` at most this
 * old). Hips retries a hook within seconds; a day leaves room for a late retry.
 */
export const HIPS_MAX_TOKEN_LIFETIME_S = 24 * 3600;
/** How long after its first arrival a Hips hook could still be accepted again: its key must be kept that long. */
export const HIPS_REPLAY_WINDOW_MS = (HIPS_MAX_TOKEN_LIFETIME_S + 2 * HIPS_CLOCK_TOLERANCE_S) * 1000;
/** The session's order timeout when the hook does not say (Hips' own default). */
const DEFAULT_ORDER_TIMEOUT_S = 120;

export async function createHipsAdapter(publicKeyPem: string): Promise<PspAdapter> {
  const key = importRs256PublicKey(publicKeyPem);
  return {
    name: 'hips',
    webhooks: [
      {
        kind: 'qr',
        path: '/webhooks/hips/qr',
        verify: async (request, now) => {
          const claim = await verifiedDataClaim(request.body, key, now);
          if (claim.verdict !== 'ok') return claim;
          const parsed = hipsQrHookData.safeParse(claim.data);
          if (!parsed.success) return malformed('the verified data claim is not a Hips QR hook', parsed.error);
          return mapQrHook(parsed.data, now);
        },
        downResponse: (text) => ({ down_response_text: text }),
      },
      {
        kind: 'order',
        path: '/webhooks/hips/orders',
        verify: async (request, now) => {
          const claim = await verifiedDataClaim(request.body, key, now);
          if (claim.verdict !== 'ok') return claim;
          const parsed = hipsOrderHookData.safeParse(claim.data);
          if (!parsed.success) return malformed('the verified data claim is not a Hips order hook', parsed.error);
          return mapOrderHook(parsed.data);
        },
      },
    ],
  };
}

type ClaimResult = { verdict: 'ok'; data: unknown } | Extract<HookVerdict, { verdict: 'unauthenticated' | 'malformed' }>;

async function verifiedDataClaim(body: unknown, key: KeyObject, now: Date): Promise<ClaimResult> {
  const shape = hipsWebhookBody.safeParse(body);
  if (!shape.success) {
    return { verdict: 'malformed', message: 'the body must be a JSON object with a non-empty string field `jwt` (the signed Hips webhook)' };
  }
  // RS256 pinned: no `none`, no HS256 keyed with the public key.
  const verified = verifyRs256Jwt(shape.data.jwt, key, {
    issuer: HIPS_ISSUER,
    clockToleranceS: HIPS_CLOCK_TOLERANCE_S,
    maxLifetimeS: HIPS_MAX_TOKEN_LIFETIME_S,
    now,
  });
  if (!verified.ok) return { verdict: verified.reason === 'too_deep' ? 'malformed' : 'unauthenticated', message: verified.message };
  if (verified.payload.data === undefined) return { verdict: 'malformed', message: 'the verified token carries no `data` claim' };
  return { verdict: 'ok', data: verified.payload.data };
}

function malformed(what: string, error: z.ZodError): HookVerdict {
  const detail = zodIssuesText(error, { limit: 5 });
  return { verdict: 'malformed', message: `${what}: ${detail}` };
}

function mapQrHook(d: HipsQrHookData, now: Date): HookVerdict {
  const base = {
    verdict: 'verified' as const,
    // The request type is part of the key: a session's start and its end are separate events.
    dedupeKey: `qr:${d.request_type}:${d.idempotency_key}`,
    route: { by: 'qrCode' as const, qrCode: d.qr_code },
    auditData: { ...d, one_time_order_api_key: undefined },
  };
  if (d.request_type === 'start_qr_session') {
    const startedAt = parseHipsTime(d.execute_at) ?? now;
    const timeoutS = d.order_timeout_seconds ?? DEFAULT_ORDER_TIMEOUT_S;
    const event: MappedEvent = {
      type: 'qr.session.started',
      data: {
        psp: 'hips',
        sessionId: d.session_id,
        qrCode: d.qr_code,
        allowTip: d.allow_tip ?? false,
        oneTimeOrderApiKey: d.one_time_order_api_key,
        orderTimeoutSeconds: d.order_timeout_seconds,
        paymentTimeoutSeconds: d.payment_timeout_seconds,
        expiresAt: new Date(startedAt.getTime() + timeoutS * 1000).toISOString(),
        dynamic: d.dynamic,
      },
    };
    return { ...base, event, needsLiveCab: true };
  }
  const type = d.request_type === 'canceled' ? 'qr.session.canceled' : 'qr.session.timed_out';
  return { ...base, event: { type, data: { sessionId: d.session_id } }, needsLiveCab: false };
}

/**
 * Hips writes times like "2019-10-19T18:34:49.898 01:00": an ISO time whose '+' became a
 * space on the way. Anything unreadable or absurd falls back to the receipt time.
 */
export function parseHipsTime(text: string | undefined): Date | null {
  if (!text) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:(Z)|([+\- ])?(\d{2}):?(\d{2}))?$/.exec(text.trim());
  if (!m) return null;
  const [, date, time, zulu, sign, hh, mm] = m;
  const offset = zulu || !hh ? 'Z' : `${sign === '-' ? '-' : '+'}${hh}:${mm}`;
  const ms = Date.parse(`${date}T${time}${offset}`);
  if (!Number.isFinite(ms)) return null;
  const year = new Date(ms).getUTCFullYear();
  return year >= 2000 && year <= 9999 ? new Date(ms) : null;
}

function mapOrderHook(d: HipsOrderHookData): HookVerdict {
  const r = d.resource;
  const paid = d.event === 'payment.successful';
  const { dedupeKey, event } = hipsOrderEvent({
    pspOrderId: r.order_id,
    merchantOrderId: r.merchant_order_id,
    state: paid ? 'paid' : 'failed',
    status: r.status,
    currency: r.currency,
    orderAmount: r.order_amount,
    tipAmount: r.tip_amount,
    totalAmount: r.amount,
    reason: r.reason || (d.event === 'order.expired' ? 'expired' : r.status || 'payment failed'),
  });
  const route = { by: 'merchantOrderId' as const, merchantOrderId: r.merchant_order_id };
  return { verdict: 'verified', dedupeKey, route, event, needsLiveCab: false, auditData: d };
}

/**
 * An order's outcome as the tablet's event, the same whether its webhook said so or the relay
 * asked Hips (reconciliation). The dedupe key names the order and the outcome, not the hook, so
 * an outcome learnt both ways is stored once.
 */
export function hipsOrderEvent(o: PspOrderFacts & { state: 'paid' | 'failed' }): { dedupeKey: string; event: MappedEvent } {
  if (o.state === 'paid') {
    return {
      dedupeKey: hipsOrderDedupeKey(o.pspOrderId, 'paid'),
      event: {
        type: 'order.paid',
        data: {
          merchantOrderId: o.merchantOrderId,
          pspOrderId: o.pspOrderId,
          currency: o.currency,
          orderAmount: o.orderAmount,
          tipAmount: o.tipAmount,
          totalAmount: o.totalAmount,
        },
      },
    };
  }
  return {
    dedupeKey: hipsOrderDedupeKey(o.pspOrderId, 'failed'),
    event: {
      type: 'order.failed',
      data: { merchantOrderId: o.merchantOrderId, pspOrderId: o.pspOrderId, reason: (o.reason || o.status || 'payment failed').slice(0, 500) },
    },
  };
}

export function hipsOrderDedupeKey(pspOrderId: string, outcome: 'paid' | 'failed'): string {
  return `order:${outcome}:${pspOrderId}`;
}

/** Hips order statuses (`GET /v2/orders/{id}`) by what they mean for the ride. */
export const HIPS_ORDER_STATES: Record<string, PspOrderFacts['state']> = {
  pending: 'open',
  successful: 'paid',
  partially_refunded: 'paid',
  refunded: 'paid',
  failed: 'failed',
  expired: 'failed',
  revoked: 'failed',
};
