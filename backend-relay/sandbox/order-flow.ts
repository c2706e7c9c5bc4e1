/**
 * Orders: create (bound to a waiting QR session), pay or decline (the payer), expire (payment
 * timeout), revoke (cancel or refund) and fulfill. Each change commits with its hook.
 */
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { hipsCreateOrderRequest } from '../../protocol/hips.js';
import { maxTip, minorAmount } from '../../protocol/money.js';
import type { Principal } from './auth.js';
import { badRequest, conflict, notFound, parseOr400, unauthorized } from './errors.js';
import { commitThenDeliver, type FlowDeps } from './flow-deps.js';
import { withIdempotency, type Answer } from './idempotency.js';
import { orderHook } from './outbox.js';
import { orderTimerKey, sessionTimerKey } from './session-flow.js';
import { nowIso, type OrderRow } from './store.js';
import { orderView, sessionView } from './views.js';

export const payRequest = z.strictObject({
  tip_amount: minorAmount.default(0),
  /** Simulate the payer's card or app: 'decline' fails the payment with `payment.failed`. */
  outcome: z.enum(['approve', 'decline']).default('approve'),
});

export const revokeRequest = z.strictObject({ amount: minorAmount.positive().optional() }).optional();

export class OrderFlow {
  constructor(private readonly deps: FlowDeps) {}

  /** Re-arms the payment timeout of every unpaid order (after a restart). */
  rearm(): void {
    for (const order of this.deps.store.pendingOrders()) this.armPaymentTimeout(order);
  }

  create(principal: Principal, idempotencyKey: string | undefined, rawBody: unknown): Answer {
    const { store } = this.deps;
    const body = parseOr400(hipsCreateOrderRequest, rawBody, 'create-order body');
    let sessionId = body.qr_session_id;
    if (principal.kind === 'one_time') {
      sessionId ??= principal.session.id;
      if (sessionId !== principal.session.id) {
        throw unauthorized("This one-time order API key belongs to another QR session; use the key from that session's start_qr_session hook.");
      }
    }
    if (sessionId === undefined) {
      throw badRequest('qr_session_id is required: the sandbox creates orders only for a scanned QR session.');
    }
    const orderAmount = body.cart.items.reduce((sum, item) => sum + (item.type === 'discount' ? -1 : 1) * item.quantity * item.unit_price, 0);
    const answer = store.transaction(() =>
      withIdempotency(store, 'POST /v2/orders', idempotencyKey, rawBody, () => {
        const session = store.session(sessionId);
        if (!session) throw notFound(`No QR session "${sessionId}". Use the session_id from the start_qr_session hook.`);
        if (session.state !== 'waiting_for_order' || Date.now() >= session.order_deadline_ms) {
          const state = session.state === 'waiting_for_order' ? 'timed_out' : session.state;
          throw conflict(
            `QR session "${sessionId}" is ${state}, not waiting_for_order: an order can be created only once per scan, ` +
              'before the order timeout. Ask the passenger to scan again.',
          );
        }
        if (orderAmount <= 0 || orderAmount > 100_000_000) {
          throw badRequest(`The cart total must be between 1 and 100000000 minor units; it is ${orderAmount}.`);
        }
        const now = nowIso();
        const order: OrderRow = {
          id: uuidv7(),
          merchant_order_id: body.order_id,
          session_id: session.id,
          currency: body.purchase_currency,
          order_amount: orderAmount,
          items: JSON.stringify(body.cart.items),
          fulfill: body.fulfill ? 1 : 0,
          webhook_url: body.hooks.webhook_url,
          status: 'pending',
          fulfillment_status: 'unfulfilled',
          tip_amount: 0,
          amount: 0,
          refunded_amount: 0,
          reason: null,
          payment_deadline_ms: Date.now() + session.payment_timeout_seconds * 1000,
          created_at: now,
          updated_at: now,
          paid_at: null,
        };
        store.insertOrder(order);
        store.updateSession(session.id, { state: 'awaiting_payment' });
        return { statusCode: 201, body: orderView(order) };
      }),
    );
    if (answer.statusCode === 201) {
      const created = store.order((answer.body as { id: string }).id)!;
      this.deps.timers.cancel(sessionTimerKey(sessionId));
      this.armPaymentTimeout(created);
    }
    return answer;
  }

  get(orderId: string) {
    const order = this.deps.store.order(orderId);
    if (!order) throw notFound(`No order "${orderId}".`);
    return orderView(order);
  }

  /**
   * The payer approves (with a tip) or the payment is declined. The payer's answer does not
   * wait for the merchant's webhook, as with a real wallet app.
   */
  pay(sessionId: string, rawBody: unknown) {
    const { store, config } = this.deps;
    const req = parseOr400(payRequest, rawBody ?? {}, 'pay body');
    const { result: orderId } = commitThenDeliver(this.deps, (emit) => {
      const session = store.session(sessionId);
      if (!session) throw notFound(`No QR session "${sessionId}".`);
      if (session.state !== 'awaiting_payment') {
        throw conflict(`QR session "${sessionId}" is ${session.state}; it can be paid only while awaiting_payment.`);
      }
      const order = store.orderBySession(sessionId)!;
      if (Date.now() >= order.payment_deadline_ms) throw conflict(`The order for session "${sessionId}" has expired.`);
      const cap = session.allow_tip === 1 ? maxTip(order.order_amount) : 0;
      if (req.tip_amount > 0 && session.allow_tip !== 1) {
        throw badRequest('This QR code does not allow tips: tip_amount must be 0.');
      }
      if (req.tip_amount > cap) {
        throw badRequest(`tip_amount ${req.tip_amount} is over the cap of ${cap} (20% of the order amount ${order.order_amount}).`);
      }
      const approved = req.outcome === 'approve';
      const now = nowIso();
      const after: OrderRow = approved
        ? {
            ...order,
            status: 'successful',
            tip_amount: req.tip_amount,
            amount: order.order_amount + req.tip_amount,
            fulfillment_status: order.fulfill === 1 ? 'fulfilled' : 'unfulfilled',
            paid_at: now,
          }
        : { ...order, status: 'failed', reason: 'payment_declined' };
      store.updateOrder(order.id, {
        status: after.status,
        tip_amount: after.tip_amount,
        amount: after.amount,
        fulfillment_status: after.fulfillment_status,
        paid_at: after.paid_at,
        reason: after.reason,
      });
      store.insertPayment({
        id: uuidv7(),
        order_id: order.id,
        status: approved ? 'successful' : 'failed',
        currency: order.currency,
        order_amount: order.order_amount,
        tip_amount: approved ? req.tip_amount : 0,
        amount: approved ? after.amount : 0,
        reason: after.reason,
        created_at: now,
      });
      store.updateSession(sessionId, { state: approved ? 'paid' : 'failed' });
      emit(orderHook(after, approved ? 'payment.successful' : 'payment.failed'));
      return order.id;
    });
    this.deps.timers.cancel(orderTimerKey(orderId));
    return sessionView(config, store.session(sessionId)!, store.order(orderId));
  }

  revoke(orderId: string, idempotencyKey: string | undefined, rawBody: unknown): Answer {
    const { store } = this.deps;
    const req = parseOr400(revokeRequest, rawBody ?? undefined, 'revoke body');
    const answer = store.transaction(() =>
      withIdempotency(store, `PATCH /v2/orders/${orderId}/revoke`, idempotencyKey, rawBody ?? null, () => {
        const order = store.order(orderId);
        if (!order) throw notFound(`No order "${orderId}".`);
        if (order.status === 'pending') {
          if (req?.amount !== undefined) {
            throw badRequest('Nothing has been charged yet: revoke without an amount to cancel the unpaid order.');
          }
          store.updateOrder(orderId, { status: 'revoked', reason: 'revoked_by_merchant' });
          if (order.session_id) store.updateSession(order.session_id, { state: 'canceled' });
          return { statusCode: 200, body: orderView(store.order(orderId)!) };
        }
        if (order.status === 'successful' || order.status === 'partially_refunded') {
          const refundable = order.amount - order.refunded_amount;
          const amount = req?.amount ?? refundable;
          if (amount > refundable) {
            throw badRequest(`Refund amount ${amount} is more than the ${refundable} still refundable on this order.`);
          }
          const refunded = order.refunded_amount + amount;
          store.insertRefund({ id: uuidv7(), order_id: orderId, currency: order.currency, amount, created_at: nowIso() });
          store.updateOrder(orderId, {
            refunded_amount: refunded,
            status: refunded === order.amount ? 'refunded' : 'partially_refunded',
          });
          return { statusCode: 200, body: orderView(store.order(orderId)!) };
        }
        throw conflict(`Order "${orderId}" is ${order.status}; there is nothing to revoke.`);
      }),
    );
    this.deps.timers.cancel(orderTimerKey(orderId));
    return answer;
  }

  fulfill(orderId: string) {
    const { store } = this.deps;
    return store.transaction(() => {
      const order = store.order(orderId);
      if (!order) throw notFound(`No order "${orderId}".`);
      if (order.status !== 'successful' && order.status !== 'partially_refunded') {
        throw conflict(`Order "${orderId}" is ${order.status}; only a paid order can be fulfilled.`);
      }
      store.updateOrder(orderId, { fulfillment_status: 'fulfilled' });
      return orderView(store.order(orderId)!);
    });
  }

  private armPaymentTimeout(order: OrderRow): void {
    this.deps.timers.schedule(orderTimerKey(order.id), order.payment_deadline_ms, () => this.expireIfDue(order.id));
  }

  private expireIfDue(orderId: string): void {
    const { store, log } = this.deps;
    try {
      commitThenDeliver(this.deps, (emit) => {
        const order = store.order(orderId);
        if (order?.status !== 'pending') return;
        if (Date.now() < order.payment_deadline_ms) return this.armPaymentTimeout(order);
        const expired: OrderRow = { ...order, status: 'expired', reason: 'payment_timeout' };
        store.updateOrder(orderId, { status: expired.status, reason: expired.reason });
        if (order.session_id) store.updateSession(order.session_id, { state: 'timed_out' });
        emit(orderHook(expired, 'order.expired'));
      });
    } catch (err) {
      log.error({ err, orderId }, 'could not expire the order');
    }
  }
}
