/** receipt.publish over the cab socket and GET /receipts/:token, against an in-process relay. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newReceiptToken } from '../../electron/core/receipts.js';
import type { ReceiptPayload } from '../../protocol/receipt.js';
import { addCab, admin, connectTablet, hipsPaid, makeSigner, startInProcess, tempDir, waitForConnect, type Signer, type TestTablet } from '../relay/helpers.js';

let relay: Awaited<ReturnType<typeof startInProcess>>;
let tablet: TestTablet;
let other: TestTablet;
let signer: Signer;

/** The receipt's payment as the relay records it: a signed Hips webhook for its ride. */
async function paidAtHips(cabId: string, r: ReceiptPayload): Promise<ReceiptPayload> {
  await hipsPaid(relay.url, signer, cabId, r.rideId, { pspOrderId: r.pspReference!, orderAmount: r.orderAmount, tipAmount: r.tipAmount, currency: r.currency });
  return r;
}

function receipt(cabId: string, over: Partial<Omit<ReceiptPayload, 'psp'>> & { psp?: string | null } = {}): ReceiptPayload {
  const rideId = over.rideId ?? `019a0000-0000-7000-8000-${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}`;
  return {
    rideId,
    merchantOrderId: `${cabId}.${rideId}`,
    token: newReceiptToken(),
    driverId: 'D-4711',
    startedAt: '2026-11-21T17:05:00.000Z',
    endedAt: '2026-11-21T17:31:00.000Z',
    paidAt: '2026-11-21T17:32:00.000Z',
    currency: 'SEK',
    lines: [
      { id: 'fare', kind: 'fare', label: 'Taxiresa', amount: 31_800, vatRate: 6 },
      { id: 'extra-1', kind: 'booking_fee', label: 'Bokningsavgift', amount: 5_000, vatRate: 25 },
    ],
    orderAmount: 36_800,
    tipAmount: 3_600,
    totalAmount: 40_400,
    method: 'psp',
    psp: 'hips',
    pspReference: `ord-123-${rideId.slice(-12)}`,
    locale: 'sv',
    ...over,
  } as ReceiptPayload;
}

const publish = (t: TestTablet, payload: unknown) =>
  t.socket.timeout(5_000).emitWithAck('receipt.publish', payload) as Promise<{ ok: boolean; value?: { url: string }; error?: { code: string } }>;

beforeAll(async () => {
  const dir = tempDir('cabpay-receipts-');
  signer = await makeSigner(dir);
  relay = await startInProcess(dir, signer, {
    fleetName: 'Testtaxi Göteborg AB',
    fleetOrgNumber: '556677-8899',
    publicUrl: 'https://relay.test.example',
  });
  tablet = connectTablet(relay.url, 'cab-1', await addCab(relay.url, 'cab-1'));
  other = connectTablet(relay.url, 'cab-2', await addCab(relay.url, 'cab-2'));
  await Promise.all([waitForConnect(tablet), waitForConnect(other)]);
});
afterAll(async () => {
  tablet?.close();
  other?.close();
  await relay?.app.close();
});

describe('receipts at the relay', () => {
  it('stores a published receipt under its token and serves it as a printable page', async () => {
    const r = await paidAtHips('cab-1', receipt('cab-1'));
    const ack = await publish(tablet, r);
    expect(ack).toEqual({ ok: true, value: { url: `https://relay.test.example/receipts/${r.token}` } });

    const res = await fetch(`${relay.url}/receipts/${r.token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    for (const text of ['Testtaxi Göteborg AB', '556677-8899', 'ABC123', 'D-4711', 'ord-123', 'Betalningskvitto', 'inte taxameterkvittot', '@media print'])
      expect(html).toContain(text);
    const plain = html.replace(/\s/g, ' ');
    // 6% VAT in 318,00 = 18,00; 25% in 50,00 = 10,00; total VAT 28,00; total 404,00
    for (const amount of ['18,00 kr', '10,00 kr', '28,00 kr', '368,00 kr', '36,00 kr', '404,00 kr']) expect(plain).toContain(amount);
    expect(plain).toMatch(/6 %/);
    expect(plain).toMatch(/25 %/);
  });

  it('escapes what the cab, the tablet and the PSP put on the page: plate, label, line labels, driver id, PSP reference (a psp outside the known three is refused below)', async () => {
    const plate = '"><svg onload=x()>';
    const label = '<script>alert(1)</script>';
    const put = await admin(relay.url, 'PUT', '/admin/cabs/cab-h', { psp: 'hips', qrCodes: ['qr-cab-h'], plate, label });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const hostileTablet = connectTablet(relay.url, 'cab-h', put.body.deviceToken as string);
    await waitForConnect(hostileTablet);
    const r = await paidAtHips(
      'cab-h',
      receipt('cab-h', {
        driverId: '</dd><script>x()</script>',
        pspReference: `"><iframe src="//evil.example">`,
        lines: [
          { id: 'fare', kind: 'fare', label: 'Taxiresa', amount: 31_800, vatRate: 6 },
          { id: 'extra-1', kind: 'other', label: `<img src=x onerror="alert('line')">&amp;`, amount: 5_000, vatRate: 25 },
        ],
      }),
    );
    expect(await publish(hostileTablet, r)).toMatchObject({ ok: true });
    hostileTablet.close();
    const html = await (await fetch(`${relay.url}/receipts/${r.token}`)).text();
    // No markup of theirs: every < of the hostile text arrives as &lt;, every quote escaped.
    // The page's one script is its own (the print button, allowed by hash in the CSP).
    expect(html.match(/<script/g)).toHaveLength(1);
    for (const tag of ['<svg', '<img', '<iframe']) expect(html).not.toContain(tag);
    for (const escaped of [
      '&quot;&gt;&lt;svg onload=x()&gt;',
      '&lt;script&gt;alert(1)&lt;/script&gt;',
      '&lt;/dd&gt;&lt;script&gt;x()&lt;/script&gt;',
      '&quot;&gt;&lt;iframe src=&quot;//evil.example&quot;&gt;',
      '&lt;img src=x onerror=&quot;alert(&#39;line&#39;)&quot;&gt;&amp;amp;',
    ])
      expect(html).toContain(escaped);
  });

  it('is idempotent per ride: a resend keeps the URL, a new token for the same ride is refused', async () => {
    const r = await paidAtHips('cab-1', receipt('cab-1'));
    const first = await publish(tablet, r);
    const again = await publish(tablet, r);
    expect(again).toEqual(first);
    const conflict = await publish(tablet, { ...r, token: newReceiptToken() });
    expect(conflict).toMatchObject({ ok: false, error: { code: 'token_conflict' } });
  });

  it("refuses a receipt for another cab's ride and an invalid payload", async () => {
    const foreign = receipt('cab-1');
    expect(await publish(other, foreign)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await fetch(`${relay.url}/receipts/${foreign.token}`)).status).toBe(404);
    expect(await publish(tablet, { ...receipt('cab-1'), token: 'short' })).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });

  it("refuses a psp the relay does not know (an Object built-in's name printed its source on the page)", async () => {
    for (const psp of ['constructor', '__proto__', 'toString', 'PayPal']) {
      const r = receipt('cab-1', { psp });
      expect(await publish(tablet, r), psp).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringContaining('psp') } });
      expect((await fetch(`${relay.url}/receipts/${r.token}`)).status).toBe(404);
    }
    const hips = await paidAtHips('cab-1', receipt('cab-1', { psp: 'hips' }));
    expect(await publish(tablet, hips)).toMatchObject({ ok: true });
    expect(await (await fetch(`${relay.url}/receipts/${hips.token}`)).text()).toContain('Hips');
  });

  it('sends every HTML page with no framing, no sniffing, no referrer, and a CSP without inline code but its own', async () => {
    const r = await paidAtHips('cab-1', receipt('cab-1'));
    await publish(tablet, r);
    for (const path of [`/receipts/${r.token}`, `/receipts/${newReceiptToken()}`]) {
      const res = await fetch(`${relay.url}${path}`);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      // What runs inline is exactly what the CSP names by hash.
      const html = await res.text();
      expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
      for (const [tag, directive] of [
        ['style', 'style-src'],
        ['script', 'script-src'],
      ] as const) {
        const blocks = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
        expect(blocks.length, tag).toBe(1);
        const hash = createHash('sha256').update(blocks[0]!).digest('base64');
        expect(csp).toContain(`${directive} 'sha256-${hash}'`);
      }
    }
    // JSON answers are not sniffed either.
    expect((await fetch(`${relay.url}/healthz`)).headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers an unknown or malformed token with a 404 page', async () => {
    for (const token of [newReceiptToken(), 'nope', '..%2F..%2Fetc']) {
      const res = await fetch(`${relay.url}/receipts/${token}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('Kvittot hittades inte');
    }
  });
});

describe('receipts checked against the payment the relay recorded', () => {
  it('refuses a card/app receipt whose totals differ from the recorded payment (an order of 368,00 with a total of 0,01)', async () => {
    const r = await paidAtHips('cab-1', receipt('cab-1'));
    const cheap = { ...r, totalAmount: 1, tipAmount: 0, orderAmount: 1, lines: [{ id: 'fare', kind: 'fare', label: 'Taxiresa', amount: 1, vatRate: 6 }] };
    const ack = await publish(tablet, cheap);
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringContaining('order amount 1, paid 36800') } });
    expect((await fetch(`${relay.url}/receipts/${r.token}`)).status).toBe(404);
    // A total that does not add up is refused whatever was paid.
    expect(await publish(tablet, { ...r, totalAmount: 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: expect.stringContaining('not the total 1') },
    });
    expect(await publish(tablet, { ...r, tipAmount: 0, totalAmount: 36_800 })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('tip 0, paid 3600') },
    });
    expect(await publish(tablet, { ...r, currency: 'NOK' })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('currency NOK, paid in SEK') },
    });
    expect(await publish(tablet, r)).toMatchObject({ ok: true });
  });

  it('refuses a card/app receipt for a payment the relay never saw paid, or another cab’s, or another ride’s', async () => {
    const unpaid = receipt('cab-1');
    expect(await publish(tablet, unpaid)).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringContaining('no hips payment') } });
    const theirs = await paidAtHips('cab-2', receipt('cab-2'));
    const claimed = receipt('cab-1', { pspReference: theirs.pspReference });
    expect(await publish(tablet, claimed)).toMatchObject({ ok: false, error: { code: 'invalid' } });
    const own = await paidAtHips('cab-1', receipt('cab-1'));
    expect(await publish(tablet, { ...receipt('cab-1'), pspReference: own.pspReference })).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await publish(tablet, { ...own, psp: 'vipps' })).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await publish(tablet, { ...own, pspReference: null })).toMatchObject({ ok: false, error: { message: expect.stringContaining('names its PSP') } });
  });

  it('takes a receipt paid another way when its lines add up and it claims no PSP payment', async () => {
    const cash = receipt('cab-1', { method: 'other', psp: null, pspReference: null });
    expect(await publish(tablet, cash)).toMatchObject({ ok: true });
    expect(
      await publish(tablet, { ...receipt('cab-1', { method: 'other', psp: null, pspReference: null }), orderAmount: 100, totalAmount: 3_700 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: expect.stringContaining('the lines add up to 36800, not the order amount 100') },
    });
    expect(await publish(tablet, receipt('cab-1', { method: 'other', psp: 'hips', pspReference: 'ord-made-up' }))).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('names no PSP') },
    });
    // A ride the relay saw paid at the PSP is not "paid another way".
    const paid = await paidAtHips('cab-1', receipt('cab-1'));
    expect(await publish(tablet, { ...paid, method: 'other', psp: null, pspReference: null })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('publish its receipt with method "psp"') },
    });
  });
});
