/**
 * The payer's side of a QR session: scan, cancel, and the order timeout. A scan commits the
 * session with its `start_qr_session` hook and answers once the first delivery attempt settled,
 * so a merchant's 412 shows at once as state `down`.
 */
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { conflict, notFound } from './errors.js';
import { commitThenDeliver, type FlowDeps } from './flow-deps.js';
import { orderHook, qrHook } from './outbox.js';
import { parseQrData } from './qr-data.js';
import { nowIso, type SessionRow } from './store.js';

const UNREACHABLE_TEXT = 'The merchant could not be reached. Please try again, or pay another way.';

export const sessionTimerKey = (id: string) => `session:${id}`;
export const orderTimerKey = (id: string) => `order:${id}`;

export class SessionFlow {
  constructor(private readonly deps: FlowDeps) {}

  /** Re-arms the order timeout of every session still waiting (after a restart). */
  rearm(): void {
    for (const s of this.deps.store.sessionsInState('waiting_for_order')) this.armOrderTimeout(s);
  }

  async scan(rawQrData: string): Promise<{ session_id: string; state: string; down_response_text?: string }> {
    const { store, config } = this.deps;
    const parsed = parseQrData(rawQrData);
    if (parsed.merchantId !== config.merchantId) {
      throw notFound(`QR data names merchant "${parsed.merchantId}", but this sandbox is merchant "${config.merchantId}".`);
    }
    const qr = store.qrByCode(parsed.qrCode);
    if (!qr) throw notFound(`No QR code "${parsed.qrCode}" exists. Create it with POST /v2/qrs first.`);
    const url = qr.qr_start_webhook_url;
    if (qr.status !== 'online' || url === null) {
      throw conflict(
        `QR code "${qr.qr_code}" is not connected (status ${qr.status}). ` + `Connect it with PATCH /v2/qrs/${qr.code_token} and a qr_start_webhook_url.`,
      );
    }
    const now = Date.now();
    const session: SessionRow = {
      id: uuidv7(),
      code_token: qr.code_token,
      qr_code: qr.qr_code,
      state: 'waiting_for_order',
      allow_tip: qr.allow_tip,
      one_time_key: `otk_${randomBytes(32).toString('base64url')}`,
      order_timeout_seconds: qr.order_timeout_seconds,
      payment_timeout_seconds: qr.payment_timeout_seconds,
      order_deadline_ms: now + qr.order_timeout_seconds * 1000,
      dynamic: parsed.dynamic ?? qr.dynamic,
      down_response_text: null,
      created_at: nowIso(),
      updated_at: nowIso(),
    };
    const { sent } = commitThenDeliver(this.deps, (emit) => {
      store.insertSession(session);
      emit(qrHook(config, url, session, 'start_qr_session'));
    });
    this.armOrderTimeout(session);
    await sent;
    const after = store.session(session.id)!;
    return {
      session_id: after.id,
      state: after.state,
      ...(after.down_response_text === null ? {} : { down_response_text: after.down_response_text }),
    };
  }

  /** The payer gives up: before the order a `canceled` QR hook, after it a `payment.failed`. */
  cancel(sessionId: string): void {
    const { store, config } = this.deps;
    const { result: orderId } = commitThenDeliver(this.deps, (emit) => {
      const session = store.session(sessionId);
      if (!session) throw notFound(`No QR session "${sessionId}".`);
      if (session.state === 'waiting_for_order') {
        store.updateSession(sessionId, { state: 'canceled' });
        const url = store.qrByToken(session.code_token)?.qr_start_webhook_url;
        if (url) emit(qrHook(config, url, session, 'canceled'));
        return null;
      }
      if (session.state === 'awaiting_payment') {
        const order = store.orderBySession(sessionId)!;
        store.updateSession(sessionId, { state: 'canceled' });
        const failed = { ...order, status: 'failed' as const, reason: 'canceled_by_payer' };
        store.updateOrder(order.id, { status: failed.status, reason: failed.reason });
        emit(orderHook(failed, 'payment.failed'));
        return order.id;
      }
      throw conflict(`QR session "${sessionId}" is ${session.state}; only an open session can be canceled.`);
    });
    this.deps.timers.cancel(sessionTimerKey(sessionId));
    if (orderId) this.deps.timers.cancel(orderTimerKey(orderId));
  }

  /** The merchant answered 412: the session ends and the payer sees the merchant's text. */
  endAsDown(sessionId: string, text: string): void {
    const { store } = this.deps;
    store.transaction(() => {
      const session = store.session(sessionId);
      if (session?.state !== 'waiting_for_order') return;
      store.updateSession(sessionId, { state: 'down', down_response_text: text });
    });
    this.deps.timers.cancel(sessionTimerKey(sessionId));
  }

  /** All attempts of the start hook failed: the merchant never learned of the scan. */
  endAsUnreachable(sessionId: string): void {
    this.endAsDown(sessionId, UNREACHABLE_TEXT);
  }

  private armOrderTimeout(session: SessionRow): void {
    this.deps.timers.schedule(sessionTimerKey(session.id), session.order_deadline_ms, () => this.timeOutIfDue(session.id));
  }

  private timeOutIfDue(sessionId: string): void {
    const { store, config, log } = this.deps;
    try {
      commitThenDeliver(this.deps, (emit) => {
        const session = store.session(sessionId);
        if (session?.state !== 'waiting_for_order') return;
        if (Date.now() < session.order_deadline_ms) return this.armOrderTimeout(session);
        store.updateSession(sessionId, { state: 'timed_out' });
        const url = store.qrByToken(session.code_token)?.qr_start_webhook_url;
        if (url) emit(qrHook(config, url, session, 'timed_out'));
      });
    } catch (err) {
      log.error({ err, sessionId }, 'could not time out the QR session');
    }
  }
}
