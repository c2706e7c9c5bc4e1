/**
 * The passenger's phone against the sandbox's payer simulations: the Hips pay page, the Vipps MobilePay app (check-in, approve/reject a pushed payment) and a PayNow banking
 * app paying HitPay's dynamic QR (see backend-relay/sandbox/README.md).
 */
import { z } from 'zod';

const sessionView = z.object({
  session_id: z.string(),
  state: z.string(),
  order: z.object({ id: z.string(), order_id: z.string(), status: z.string(), order_amount: z.number(), max_tip: z.number() }).optional(),
});
export type PhoneSession = z.infer<typeof sessionView>;

const vippsPushes = z.object({
  checkIn: z.object({ live: z.boolean() }),
  payments: z.array(z.object({ reference: z.string(), state: z.string(), amount: z.object({ currency: z.string(), value: z.number() }) })),
});
export type VippsPush = z.infer<typeof vippsPushes>['payments'][number];

const hitpaySettled = z.object({
  payment_request_id: z.string(),
  status: z.string(),
  payment_id: z.string().nullable().optional(),
  payment_status: z.string().nullable().optional(),
});

export class Phone {
  constructor(private readonly sandboxUrl: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${this.sandboxUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
  }

  async scan(qrData: string): Promise<{ sessionId: string; state: string }> {
    const { status, json } = await this.call('POST', '/sandbox/scan', { qr_data: qrData });
    if (status !== 200) throw new Error(`scan answered ${status}: ${JSON.stringify(json)}`);
    const parsed = z.object({ session_id: z.string(), state: z.string() }).parse(json);
    return { sessionId: parsed.session_id, state: parsed.state };
  }

  async session(sessionId: string): Promise<PhoneSession> {
    const { status, json } = await this.call('GET', `/sandbox/sessions/${sessionId}`);
    if (status !== 200) throw new Error(`session ${sessionId} answered ${status}: ${JSON.stringify(json)}`);
    return sessionView.parse(json);
  }

  /** true when the PSP took the payment (or the decline). */
  async pay(sessionId: string, tipAmount: number, outcome: 'approve' | 'decline'): Promise<{ ok: boolean; detail: string }> {
    const { status, json } = await this.call('POST', `/sandbox/sessions/${sessionId}/pay`, { tip_amount: tipAmount, outcome });
    return { ok: status >= 200 && status < 300, detail: `${status} ${JSON.stringify(json)}` };
  }

  async cancel(sessionId: string): Promise<boolean> {
    const { status } = await this.call('POST', `/sandbox/sessions/${sessionId}/cancel`);
    return status >= 200 && status < 300;
  }

  // ---- Vipps MobilePay: the app checks in at the cab's QR, then approves or rejects the push ----

  async vippsCheckIn(qrContent: string): Promise<string> {
    const { status, json } = await this.call('POST', '/sandbox/vipps/checkin', { qrContent });
    if (status !== 200) throw new Error(`Vipps check-in answered ${status}: ${JSON.stringify(json)}`);
    return z.object({ customerToken: z.string() }).parse(json).customerToken;
  }

  /** The payments pushed to this check-in, oldest first. */
  async vippsPushes(customerToken: string): Promise<{ live: boolean; payments: VippsPush[] }> {
    const { status, json } = await this.call('GET', `/sandbox/vipps/pushes?customerToken=${encodeURIComponent(customerToken)}`);
    if (status !== 200) throw new Error(`Vipps pushes answered ${status}: ${JSON.stringify(json)}`);
    const parsed = vippsPushes.parse(json);
    return { live: parsed.checkIn.live, payments: parsed.payments };
  }

  /** true when Vipps took the decision (a payment no longer CREATED answers an error). */
  async vippsDecide(reference: string, outcome: 'approve' | 'reject'): Promise<boolean> {
    const { status } = await this.call('POST', `/sandbox/vipps/payments/${encodeURIComponent(reference)}/${outcome}`);
    return status >= 200 && status < 300;
  }

  /** The check-in runs out (its 15 minutes, shortened). */
  async vippsExpireToken(customerToken: string): Promise<void> {
    await this.call('POST', `/sandbox/vipps/tokens/${encodeURIComponent(customerToken)}/expire`);
  }

  // ---- HitPay PayNow: the banking app pays (or fails) the dynamic QR on the tablet ----

  /** The payment request id in the QR the tablet shows (`<sandbox>/hitpay/paynow/<id>`). */
  static hitpayRequestId(qrData: string): string {
    const id = /\/hitpay\/paynow\/([^/?#]+)/.exec(qrData)?.[1];
    if (!id) throw new Error(`the tablet's QR is not a sandbox PayNow QR: ${qrData}`);
    return decodeURIComponent(id);
  }

  /** The payment id when HitPay took the payment; null when the request was no longer payable. */
  async hitpay(requestId: string, outcome: 'pay' | 'fail'): Promise<{ ok: boolean; paymentId: string | null; detail: string }> {
    const { status, json } = await this.call('POST', `/sandbox/hitpay/payment-requests/${encodeURIComponent(requestId)}/${outcome}`);
    if (status < 200 || status > 299) return { ok: false, paymentId: null, detail: `${status} ${JSON.stringify(json)}` };
    const parsed = hitpaySettled.parse(json);
    return { ok: true, paymentId: parsed.payment_id ?? null, detail: parsed.status };
  }
}
