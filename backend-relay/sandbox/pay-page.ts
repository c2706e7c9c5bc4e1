/**
 * The passenger-phone page served at `GET /pay?qr=<qr_data>`: one self-contained document
 * (inline CSS and JS, no external assets) that scans, follows the session, offers the tip
 * (at most 20% of the order amount, base shown) and pays. Built for a 390×844 screen.
 */
export function payPageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>Pay your ride</title>
<style>
  :root { color-scheme: light dark; --accent: #0a7d4f; --bg: #f4f5f7; --card: #fff; --text: #15171a; --muted: #5d636b; --danger: #b3261e; }
  @media (prefers-color-scheme: dark) { :root { --bg: #111315; --card: #1c1f23; --text: #f1f3f5; --muted: #a4abb3; --accent: #35c48a; --danger: #ff8a80; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 17px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
  main { max-width: 430px; margin: 0 auto; padding: 20px 16px 32px; display: flex; flex-direction: column; gap: 14px; min-height: 100vh; }
  header { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
  h1 { font-size: 22px; margin: 0; }
  .cab { color: var(--muted); font-size: 15px; white-space: nowrap; }
  .plate { color: var(--text); font-size: 17px; border: 2px solid currentColor; border-radius: 6px; padding: 1px 6px; margin-left: 4px; }
  .card { background: var(--card); border-radius: 14px; padding: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  .state { font-size: 19px; font-weight: 600; }
  .state[data-state="paid"] { color: var(--accent); }
  .state[data-state="down"], .state[data-state="failed"] { color: var(--danger); }
  .items { list-style: none; margin: 0 0 8px; padding: 0; }
  .items li, .row { display: flex; justify-content: space-between; gap: 12px; padding: 4px 0; }
  .row.total { font-weight: 700; font-size: 20px; border-top: 1px solid rgba(127,127,127,.3); margin-top: 6px; padding-top: 10px; }
  .hint { color: var(--muted); font-size: 15px; margin: 4px 0 10px; }
  .tips { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 6px; }
  button { font: inherit; border: 0; border-radius: 10px; padding: 12px 6px; min-height: 48px; cursor: pointer; }
  .tips button { background: rgba(127,127,127,.15); color: var(--text); font-size: 15px; line-height: 1.2; padding: 10px 2px; }
  .tips button[aria-pressed="true"] { background: var(--accent); color: #fff; }
  .tips small { display: block; font-size: 11px; overflow-wrap: anywhere; }
  label.custom { display: flex; align-items: center; gap: 8px; margin-top: 10px; font-size: 15px; }
  label.custom input { flex: 1; font: inherit; padding: 10px; border-radius: 10px; border: 1px solid rgba(127,127,127,.5); background: transparent; color: inherit; min-height: 48px; }
  .primary { width: 100%; background: var(--accent); color: #fff; font-weight: 700; font-size: 19px; min-height: 56px; }
  .primary:disabled { opacity: .5; }
  .secondary { width: 100%; background: transparent; color: var(--muted); text-decoration: underline; min-height: 44px; }
  .error { color: var(--danger); font-size: 15px; min-height: 1em; }
  .big { font-size: 30px; font-weight: 800; margin: 6px 0; }
  [hidden], p:empty { display: none !important; }
</style>
</head>
<body>
<main>
  <header>
    <h1 data-testid="merchant-name">Taxi</h1>
    <span class="cab"><span data-testid="cab-label">Cab</span> <strong class="plate" data-testid="cab-plate">–</strong></span>
  </header>

  <section class="card">
    <div class="state" data-testid="scan-state" data-state="scanning" role="status" aria-live="polite">Connecting to the cab…</div>
    <p class="hint" data-testid="state-detail"></p>
    <p class="error" data-testid="down-text" hidden></p>
  </section>

  <section class="card" data-testid="order-section" hidden>
    <ul class="items" data-testid="order-items"></ul>
    <div class="row"><span>Order amount</span><strong data-testid="order-amount"></strong></div>
    <div data-testid="tip-section">
      <p class="hint" data-testid="tip-hint"></p>
      <div class="tips">
        <button type="button" data-testid="tip-0" data-percent="0"></button>
        <button type="button" data-testid="tip-5" data-percent="5"></button>
        <button type="button" data-testid="tip-10" data-percent="10"></button>
        <button type="button" data-testid="tip-15" data-percent="15"></button>
        <button type="button" data-testid="tip-20" data-percent="20"></button>
      </div>
      <label class="custom">Custom tip <input data-testid="tip-custom" type="text" inputmode="decimal" autocomplete="off" placeholder="0"></label>
    </div>
    <p class="hint" data-testid="no-tip" hidden>Tipping is turned off for this cab.</p>
    <div class="row"><span>Tip</span><span data-testid="tip-amount"></span></div>
    <div class="row total"><span>Total</span><span data-testid="pay-total"></span></div>
    <p class="error" data-testid="pay-error"></p>
    <button type="button" class="primary" data-testid="pay-button">Pay</button>
    <button type="button" class="secondary" data-testid="decline-button">Simulate a declined payment</button>
  </section>

  <section class="card" data-testid="paid-section" hidden>
    <div>Paid</div>
    <div class="big" data-testid="paid-total"></div>
    <div class="hint" data-testid="paid-breakdown"></div>
  </section>

  <button type="button" class="secondary" data-testid="cancel-button" hidden>Cancel</button>
  <button type="button" class="primary" data-testid="rescan-button" hidden>Scan again</button>
  <p class="error" data-testid="error-text"></p>
</main>
<script>
(() => {
  'use strict';
  const qr = new URLSearchParams(location.search).get('qr');
  const storageKey = 'cabpay-sandbox-session:' + qr;
  const TERMINAL = new Set(['paid', 'failed', 'canceled', 'timed_out', 'down']);
  const LABELS = {
    scanning: 'Connecting to the cab…',
    waiting_for_order: 'Connected – the driver sends the fare when the ride ends',
    awaiting_payment: 'Check the fare and pay',
    paid: 'Paid – thank you!',
    failed: 'The payment failed',
    canceled: 'Canceled',
    timed_out: 'Timed out – please scan again',
    down: 'This cab cannot take QR payments right now',
  };
  const el = (id) => document.querySelector('[data-testid="' + id + '"]');
  const locale = navigator.language || 'en';
  let sessionId = null;
  let session = null;
  let shownOrderId = null;
  let tip = 0;
  let tipValid = true;
  let pollTimer = null;
  let busy = false;

  const digits = (currency) =>
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const money = (minor, currency) =>
    new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 10 ** digits(currency));

  async function api(path, body) {
    const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const res = await fetch(path, init);
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((json.error && json.error.message) || 'The payment service answered ' + res.status);
    return json;
  }

  function showError(message) { el('error-text').textContent = message || ''; }

  function setState(state, detail) {
    const node = el('scan-state');
    node.dataset.state = state;
    node.textContent = LABELS[state] || state;
    el('state-detail').textContent = detail || '';
  }

  function render(s) {
    session = s;
    el('merchant-name').textContent = s.merchant ? s.merchant.name : 'Taxi';
    // The plate when the fleet put it in the QR's data (check it against the car), else the QR's code.
    el('cab-label').textContent = s.cab && s.cab.plate ? 'Plate' : 'Cab';
    el('cab-plate').textContent = (s.cab && s.cab.plate) || s.qr_code || '–';
    const order = s.order;
    const detail = s.state === 'failed' && order && order.reason ? 'Reason: ' + order.reason.replace(/_/g, ' ') : '';
    setState(s.state, detail);
    el('down-text').hidden = s.state !== 'down';
    el('down-text').textContent = s.down_response_text || '';
    el('order-section').hidden = !(s.state === 'awaiting_payment' && order);
    el('paid-section').hidden = !(s.state === 'paid' && order);
    el('cancel-button').hidden = !(s.state === 'waiting_for_order' || s.state === 'awaiting_payment');
    el('rescan-button').hidden = !TERMINAL.has(s.state) || s.state === 'paid';
    if (order && s.state === 'awaiting_payment' && shownOrderId !== order.id) showOrder(s, order);
    if (order && s.state === 'paid') {
      el('paid-total').textContent = money(order.amount, order.currency);
      el('paid-breakdown').textContent = 'Fare ' + money(order.order_amount, order.currency) + ' + tip ' + money(order.tip_amount, order.currency);
    }
  }

  function showOrder(s, order) {
    shownOrderId = order.id;
    const list = el('order-items');
    list.replaceChildren(...order.items.map((item) => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = (item.quantity > 1 ? item.quantity + ' × ' : '') + item.name;
      const price = document.createElement('span');
      const sign = item.type === 'discount' ? -1 : 1;
      price.textContent = money(sign * item.quantity * item.unit_price, order.currency);
      li.append(name, price);
      return li;
    }));
    el('order-amount').textContent = money(order.order_amount, order.currency);
    el('tip-section').hidden = !s.allow_tip;
    el('no-tip').hidden = s.allow_tip;
    el('tip-hint').textContent = 'Tip optional, up to 20% of ' + money(order.order_amount, order.currency) +
      ' (at most ' + money(order.max_tip, order.currency) + ')';
    for (const button of document.querySelectorAll('.tips button')) {
      const percent = Number(button.dataset.percent);
      const amount = Math.floor(order.order_amount * percent / 100);
      button.dataset.amount = String(amount);
      button.innerHTML = '';
      button.append(percent + '%');
      const small = document.createElement('small');
      small.textContent = money(amount, order.currency);
      button.append(small);
    }
    el('tip-custom').value = '';
    chooseTip(0);
  }

  function chooseTip(amount, fromCustom) {
    const order = session && session.order;
    if (!order) return;
    tip = amount;
    tipValid = Number.isInteger(amount) && amount >= 0 && amount <= order.max_tip;
    for (const button of document.querySelectorAll('.tips button')) {
      button.setAttribute('aria-pressed', String(!fromCustom && Number(button.dataset.amount) === amount));
    }
    el('tip-amount').textContent = money(tipValid ? amount : 0, order.currency);
    el('pay-total').textContent = money(order.order_amount + (tipValid ? amount : 0), order.currency);
    el('pay-error').textContent = tipValid ? '' : 'The tip can be at most ' + money(order.max_tip, order.currency) + '.';
    el('pay-button').disabled = !tipValid || busy;
    el('pay-button').textContent = 'Pay ' + money(order.order_amount + (tipValid ? amount : 0), order.currency);
  }

  for (const button of document.querySelectorAll('.tips button')) {
    button.addEventListener('click', () => { el('tip-custom').value = ''; chooseTip(Number(button.dataset.amount)); });
  }
  el('tip-custom').addEventListener('input', (event) => {
    const order = session && session.order;
    if (!order) return;
    const text = event.target.value.trim().replace(',', '.');
    if (text === '') return chooseTip(0);
    const value = Number(text);
    const minor = Math.round(value * 10 ** digits(order.currency));
    chooseTip(Number.isFinite(value) && value >= 0 ? minor : -1, true);
  });

  async function act(run) {
    if (busy) return;
    busy = true;
    el('pay-button').disabled = true;
    showError('');
    try { await run(); } catch (err) { showError(err.message); } finally { busy = false; if (session && session.order) chooseTip(tip, el('tip-custom').value !== ''); }
  }

  el('pay-button').addEventListener('click', () => act(async () => render(await api('/sandbox/sessions/' + sessionId + '/pay', { tip_amount: tip }))));
  el('decline-button').addEventListener('click', () => act(async () => render(await api('/sandbox/sessions/' + sessionId + '/pay', { tip_amount: 0, outcome: 'decline' }))));
  el('cancel-button').addEventListener('click', () => act(async () => render(await api('/sandbox/sessions/' + sessionId + '/cancel', {}))));
  el('rescan-button').addEventListener('click', () => act(scan));

  async function refresh() {
    try {
      const s = await api('/sandbox/sessions/' + sessionId);
      render(s);
      if (TERMINAL.has(s.state)) clearInterval(pollTimer);
    } catch (err) { showError(err.message); }
  }

  function poll() { clearInterval(pollTimer); pollTimer = setInterval(refresh, 1000); }

  async function scan() {
    shownOrderId = null;
    setState('scanning');
    const started = await api('/sandbox/scan', { qr_data: qr });
    sessionId = started.session_id;
    sessionStorage.setItem(storageKey, sessionId);
    await refresh();
    poll();
  }

  async function start() {
    if (!qr) { setState('down'); showError('This link has no QR data. Scan the QR code in the cab again.'); return; }
    const saved = sessionStorage.getItem(storageKey);
    if (saved) {
      try {
        const s = await api('/sandbox/sessions/' + saved);
        // A reload shows the same session (paid stays paid); only "Scan again" starts a new one.
        sessionId = saved;
        render(s);
        if (!TERMINAL.has(s.state)) poll();
        return;
      } catch { /* unknown session: scan afresh */ }
    }
    try { await scan(); } catch (err) { setState('down'); el('scan-state').textContent = 'Could not start the payment'; showError(err.message); }
  }

  start();
})();
</script>
</body>
</html>`;
}
