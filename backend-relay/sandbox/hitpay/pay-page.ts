/**
 * The payer's phone at `GET /hitpay/paynow/{id}` (what the sandbox's QR data opens): merchant,
 * amount, "Pay with PayNow" and "Decline". One self-contained document for a 390×844 screen;
 * the buttons call the sandbox's payer endpoints and the page shows the outcome.
 */
export interface PayPageData {
  id: string;
  merchantName: string;
  amount: string;
  currency: string;
  status: string;
  reference: string | null;
  expiry: string | null;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const statusText: Record<string, string> = {
  pending: 'Waiting for your payment',
  completed: 'Paid. Thank you!',
  failed: 'Payment declined',
  expired: 'This QR code has expired',
  canceled: 'This payment was canceled',
};

export function hitpayPayPageHtml(d: PayPageData): string {
  const pending = d.status === 'pending';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>PayNow · ${escapeHtml(d.merchantName)}</title>
<style>
  :root { color-scheme: light dark; --accent: #7c1a78; --bg: #f4f5f7; --card: #fff; --text: #15171a; --muted: #5d636b; --danger: #b3261e; --ok: #0a7d4f; }
  @media (prefers-color-scheme: dark) { :root { --bg: #111315; --card: #1c1f23; --text: #f1f3f5; --muted: #a4abb3; --accent: #c77dc4; --danger: #ff8a80; --ok: #35c48a; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 17px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
  main { max-width: 430px; margin: 0 auto; padding: 20px 16px 32px; display: flex; flex-direction: column; gap: 14px; min-height: 100vh; }
  .brand { font-weight: 800; color: var(--accent); letter-spacing: .02em; }
  .card { background: var(--card); border-radius: 14px; padding: 18px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
  .muted { color: var(--muted); font-size: 15px; overflow-wrap: anywhere; }
  .amount { font-size: 40px; font-weight: 800; margin: 10px 0 4px; }
  .state { font-size: 19px; font-weight: 600; }
  .state[data-status="completed"] { color: var(--ok); }
  .state[data-status="failed"], .state[data-status="expired"], .state[data-status="canceled"] { color: var(--danger); }
  button { font: inherit; border: 0; border-radius: 12px; min-height: 56px; width: 100%; cursor: pointer; }
  .primary { background: var(--accent); color: #fff; font-weight: 700; font-size: 19px; }
  .secondary { background: transparent; color: var(--muted); text-decoration: underline; min-height: 48px; }
  button:disabled { opacity: .5; }
  .error { color: var(--danger); font-size: 15px; }
  [hidden], p:empty { display: none !important; }
</style>
</head>
<body>
<main>
  <div class="brand">PayNow <span class="muted">· HitPay sandbox</span></div>
  <section class="card">
    <p class="muted">Pay to</p>
    <h1 data-testid="merchant-name">${escapeHtml(d.merchantName)}</h1>
    <div class="amount" data-testid="amount">${escapeHtml(d.currency.toUpperCase())} ${escapeHtml(d.amount)}</div>
    ${d.reference ? `<p class="muted" data-testid="reference">Ref ${escapeHtml(d.reference)}</p>` : ''}
    ${d.expiry ? `<p class="muted" data-testid="expiry">Valid until ${escapeHtml(d.expiry.replace('T', ' '))} (SGT)</p>` : ''}
  </section>
  <section class="card">
    <div class="state" data-testid="status" data-status="${escapeHtml(d.status)}" role="status" aria-live="polite">${escapeHtml(statusText[d.status] ?? d.status)}</div>
    <p class="error" data-testid="error"></p>
  </section>
  <button class="primary" data-testid="pay-button" ${pending ? '' : 'hidden'}>Pay with PayNow</button>
  <button class="secondary" data-testid="decline-button" ${pending ? '' : 'hidden'}>Decline</button>
</main>
<script>
  const data = ${scriptJson({ id: d.id, statusText })};
  const pay = document.querySelector('[data-testid="pay-button"]');
  const decline = document.querySelector('[data-testid="decline-button"]');
  const state = document.querySelector('[data-testid="status"]');
  const error = document.querySelector('[data-testid="error"]');
  function show(status) {
    state.dataset.status = status;
    state.textContent = data.statusText[status] || status;
    const open = status === 'pending';
    pay.hidden = !open; decline.hidden = !open;
  }
  async function act(action) {
    pay.disabled = decline.disabled = true;
    error.textContent = '';
    try {
      const res = await fetch('/sandbox/hitpay/payment-requests/' + encodeURIComponent(data.id) + '/' + action, { method: 'POST' });
      const body = await res.json().catch(() => ({}));
      if (body.status) show(body.status);
      if (!res.ok) error.textContent = body.message || ('HTTP ' + res.status);
    } catch (e) {
      error.textContent = 'No connection to the sandbox. Try again.';
    } finally {
      pay.disabled = decline.disabled = false;
    }
  }
  pay.addEventListener('click', () => act('pay'));
  decline.addEventListener('click', () => act('fail'));
</script>
</body>
</html>`;
}
