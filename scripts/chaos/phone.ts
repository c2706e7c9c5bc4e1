/** The passenger's phone against the sandbox's payer simulation (DESIGN.md §4.2). */
import { z } from 'zod';

const sessionView = z.object({
  session_id: z.string(),
  state: z.string(),
  order: z
    .object({ id: z.string(), order_id: z.string(), status: z.string(), order_amount: z.number(), max_tip: z.number() })
    .optional(),
});
export type PhoneSession = z.infer<typeof sessionView>;

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
}
