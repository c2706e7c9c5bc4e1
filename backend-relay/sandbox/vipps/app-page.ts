/**
 * The passenger's "Vipps MobilePay app" at `GET /vipps/app[?qr=<qrContent>]`: one self-contained
 * page for a 390×844 phone. It checks in (scan or pasted QR content), then polls for a pushed
 * payment for its customer token and offers Approve / Reject, as the real app does after a scan.
 */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function vippsAppHtml(merchantName: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>Vipps MobilePay (sandbox)</title>
<style>
  :root { color-scheme: light; --brand: #ff5b24; --bg: #f6f3f1; --card: #fff; --text: #1a1a1a; --muted: #6b6462; --ok: #0a7d4f; --bad: #b3261e; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 17px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
  main { max-width: 430px; margin: 0 auto; padding: 20px 16px 32px; display: flex; flex-direction: column; gap: 14px; min-height: 100vh; }
  header { display: flex; align-items: center; gap: 10px; }
  .logo { background: var(--brand); color: #fff; font-weight: 800; border-radius: 10px; padding: 6px 10px; }
  h1 { font-size: 20px; margin: 0; }
  .card { background: var(--card); border-radius: 16px; padding: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  .state { font-size: 19px; font-weight: 600; }
  .state[data-state="approved"] { color: var(--ok); }
  .state[data-state="rejected"], .state[data-state="error"], .state[data-state="expired"] { color: var(--bad); }
  .muted { color: var(--muted); font-size: 15px; }
  .amount { font-size: 40px; font-weight: 800; margin: 8px 0; }
  button { font: inherit; border: 0; border-radius: 12px; min-height: 56px; width: 100%; cursor: pointer; }
  .approve { background: var(--brand); color: #fff; font-weight: 700; font-size: 19px; }
  .reject { background: transparent; color: var(--muted); text-decoration: underline; min-height: 44px; }
  textarea { width: 100%; font: inherit; font-size: 15px; padding: 10px; border-radius: 10px; border: 1px solid #ccc; min-height: 72px; }
  .secondary { background: #e9e4e1; color: var(--text); font-weight: 600; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<main>
  <header><span class="logo">Vipps</span><h1>MobilePay sandbox</h1></header>
  <section class="card" data-testid="scan-card" id="scan-card">
    <p class="muted">Scan the taxi's QR with the phone camera, or paste its content here.</p>
    <textarea id="qr-input" data-testid="qr-input" placeholder="http://…/vipps/qr/123456/…"></textarea>
    <button class="secondary" id="scan-button" data-testid="scan-button">Scan</button>
  </section>
  <section class="card" role="status" aria-live="polite">
    <div class="state" id="state" data-testid="app-state" data-state="idle">Not checked in</div>
    <p class="muted" id="detail" data-testid="app-detail"></p>
  </section>
  <section class="card" id="push" data-testid="push-card" hidden>
    <div class="muted" data-testid="push-merchant" id="push-merchant">${escapeHtml(merchantName)}</div>
    <div class="amount" data-testid="push-amount" id="push-amount"></div>
    <div class="muted" data-testid="push-description" id="push-description"></div>
    <p></p>
    <button class="approve" id="approve" data-testid="approve-button">Approve</button>
    <button class="reject" id="reject" data-testid="reject-button">Reject</button>
  </section>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  let token = null, current = null, timer = null;
  const decided = new Set();
  const setState = (state, text, detail) => { const el = $('state'); el.dataset.state = state; el.textContent = text; $('detail').textContent = detail || ''; };
  const money = (a) => { try { return new Intl.NumberFormat(undefined, { style: 'currency', currency: a.currency }).format(a.value / 100); } catch { return (a.value / 100).toFixed(2) + ' ' + a.currency; } };
  async function api(method, path, body) {
    const res = await fetch(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.detail || json.title || ('HTTP ' + res.status));
    return json;
  }
  async function scan(content) {
    try {
      setState('checking-in', 'Checking in…');
      const r = await api('POST', '/sandbox/vipps/checkin', { qrContent: content });
      token = r.customerToken;
      $('scan-card').hidden = true;
      setState('waiting', 'Waiting for the payment request…', r.locationDescription);
      poll();
    } catch (e) { setState('error', 'Could not check in', e.message); }
  }
  async function poll() {
    clearTimeout(timer);
    if (!token) return;
    try {
      const r = await api('GET', '/sandbox/vipps/pushes?customerToken=' + encodeURIComponent(token));
      const open = r.payments.find((p) => p.state === 'CREATED' && !decided.has(p.reference));
      if (open) {
        current = open;
        $('push').hidden = false;
        $('push-merchant').textContent = r.merchantName + (r.checkIn.locationDescription ? ' · ' + r.checkIn.locationDescription : '');
        $('push-amount').textContent = money(open.amount);
        $('push-description').textContent = open.paymentDescription || '';
        setState('pushed', 'Payment request', 'Approve to pay.');
      } else if (!current) {
        const last = r.payments[r.payments.length - 1];
        if (last && last.state === 'EXPIRED') setState('expired', 'The payment request expired');
        else if (!r.checkIn.live && !last) setState('expired', 'Check-in expired', 'Scan the QR code again.');
      }
    } catch (e) { setState('error', 'Lost contact', e.message); }
    timer = setTimeout(poll, 1000);
  }
  async function decide(outcome) {
    if (!current) return;
    const ref = current.reference;
    decided.add(ref);
    $('push').hidden = true;
    current = null;
    try {
      const r = await api('POST', '/sandbox/vipps/payments/' + encodeURIComponent(ref) + '/' + outcome);
      if (outcome === 'approve') setState('approved', 'Paid', money(r.amount));
      else setState('rejected', 'Payment rejected');
    } catch (e) { setState('error', 'Could not ' + outcome, e.message); }
  }
  $('scan-button').onclick = () => scan($('qr-input').value);
  $('approve').onclick = () => decide('approve');
  $('reject').onclick = () => decide('reject');
  const qr = new URLSearchParams(location.search).get('qr');
  if (qr) { $('qr-input').value = qr; scan(qr); }
})();
</script>
</body>
</html>`;
}
