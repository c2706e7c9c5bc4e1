/**
 * `GET /receipts/:token` as a printable HTML page for a phone or a desktop: one self-contained
 * document (inline CSS, print styles, a print button), in the language the passenger paid in.
 * Its one style and one script are constant, so the CSP allows exactly them by hash and no
 * other inline code: text the tablet sent can never become script or style.
 */
import { createHash } from 'node:crypto';
import type { Locale } from '../../protocol/kiosk-api.js';
import { formatMoney } from '../../protocol/money.js';
import { receiptTotals, type ReceiptPayload } from '../../protocol/receipt.js';
import { RECEIPT_TEXT } from './receipt-text.js';

export interface ReceiptIssuer {
  fleetName: string;
  orgNumber: string | null;
  timeZone: string;
}

export interface ReceiptCab {
  cabId: string;
  plate: string;
  label: string;
}

/** How the providers write their own names. */
const PSP_NAMES = new Map<string, string>([
  ['hips', 'Hips'],
  ['vipps', 'Vipps MobilePay'],
  ['hitpay', 'HitPay'],
]);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `
  :root { color-scheme: light; --text: #16181b; --muted: #555b62; --rule: #c9cdd2; --accent: #0b5d3b; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text); background: #eef0f2; }
  main { max-width: 640px; margin: 0 auto; padding: 20px 16px 40px; }
  .sheet { background: #fff; border-radius: 12px; padding: 22px 20px; box-shadow: 0 1px 4px rgba(0,0,0,.1); }
  h1 { font-size: 24px; margin: 0 0 4px; }
  .fleet { font-weight: 700; font-size: 18px; margin: 0; }
  .muted { color: var(--muted); }
  .notice { border-left: 4px solid var(--accent); background: #e8f3ee; padding: 10px 12px; margin: 14px 0; border-radius: 4px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 14px 0; }
  dt { color: var(--muted); }
  dd { margin: 0; overflow-wrap: anywhere; }
  table { width: 100%; border-collapse: collapse; margin: 12px 0; font-variant-numeric: tabular-nums; }
  caption { text-align: left; font-weight: 700; padding-bottom: 6px; }
  th, td { padding: 6px 4px; text-align: right; border-bottom: 1px solid var(--rule); vertical-align: top; }
  th:first-child, td:first-child { text-align: left; }
  thead th { font-size: 14px; color: var(--muted); font-weight: 600; }
  tfoot td, .total td { font-weight: 700; }
  .total td { font-size: 20px; border-bottom: 0; border-top: 2px solid var(--text); }
  .print { margin-top: 16px; font: inherit; padding: 12px 18px; min-height: 48px; border-radius: 8px; border: 1px solid var(--text); background: #fff; color: var(--text); cursor: pointer; }
  @media (max-width: 480px) {
    main { padding: 8px 6px 24px; }
    .sheet { padding: 14px 10px; }
    th, td { padding: 5px 2px; font-size: 14px; }
    thead th { font-size: 12px; }
    .total td { font-size: 17px; }
    dl { grid-template-columns: max-content 1fr; gap: 2px 10px; font-size: 15px; }
  }
  .tip-note { display: block; font-weight: 400; font-size: 13px; }
  td.label { overflow-wrap: anywhere; }
  @media print {
    body { background: #fff; font-size: 12pt; }
    main { max-width: none; padding: 0; }
    .sheet { box-shadow: none; border-radius: 0; padding: 0; }
    .print { display: none; }
    .notice { background: none; }
  }
`;

/** The print button's behaviour (an `onclick` attribute would need 'unsafe-inline'). */
const SCRIPT = `document.querySelector('.print')?.addEventListener('click', () => window.print());`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Nothing but this page's own style and script; no framing, no forms, no base, no other origin. */
export const RECEIPT_PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function page(lang: Locale, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
<script>${SCRIPT}</script>
</body>
</html>`;
}

export function receiptPageHtml(receipt: ReceiptPayload, cab: ReceiptCab, issuer: ReceiptIssuer): string {
  const locale = receipt.locale;
  const t = RECEIPT_TEXT[locale];
  const money = (minor: number) => escapeHtml(formatMoney(minor, receipt.currency, locale));
  const percent = (rate: number) => escapeHtml(new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(rate / 100));
  const time = (iso: string) =>
    escapeHtml(new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: issuer.timeZone }).format(new Date(iso)));
  const totals = receiptTotals(receipt);
  const label = (kind: keyof typeof t.lines, given: string) => (kind === 'other' ? given : t.lines[kind]);

  const lineRows = totals.lines
    .map(
      (l) => `<tr data-testid="receipt-line" data-vat-rate="${l.vatRate}">
        <td>${escapeHtml(label(l.kind, l.label))}</td><td>${percent(l.vatRate)}</td>
        <td data-testid="receipt-line-vat">${money(l.vatAmount)}</td><td data-testid="receipt-line-amount">${money(l.amount)}</td></tr>`,
    )
    .join('\n');
  const vatRows = totals.vatByRate
    .map(
      (g) => `<tr data-testid="receipt-vat-group" data-vat-rate="${g.rate}">
        <td>${percent(g.rate)}</td><td>${money(g.net)}</td><td data-testid="receipt-vat-amount">${money(g.vat)}</td><td>${money(g.gross)}</td></tr>`,
    )
    .join('\n');
  const method = receipt.method === 'psp' ? t.methodPsp(PSP_NAMES.get(receipt.psp ?? '') ?? 'PSP') : t.methodOther;

  return page(
    locale,
    `${t.title} · ${issuer.fleetName}`,
    `<article class="sheet" data-testid="receipt">
  <p class="fleet" data-testid="receipt-fleet">${escapeHtml(issuer.fleetName)}</p>
  <p class="muted">${t.orgNumber} <span data-testid="receipt-org-number">${escapeHtml(issuer.orgNumber ?? t.orgMissing)}</span></p>
  <h1>${t.title}</h1>
  <p class="notice" data-testid="receipt-notice">${t.notice}</p>
  <dl>
    <dt>${t.cab}</dt><dd data-testid="receipt-cab">${escapeHtml(cab.label === cab.cabId ? cab.cabId : `${cab.label} (${cab.cabId})`)}</dd>
    <dt>${t.plate}</dt><dd data-testid="receipt-plate">${escapeHtml(cab.plate)}</dd>
    ${receipt.driverId ? `<dt>${t.driver}</dt><dd data-testid="receipt-driver">${escapeHtml(receipt.driverId)}</dd>` : ''}
    <dt>${t.started}</dt><dd data-testid="receipt-started">${time(receipt.startedAt)}</dd>
    <dt>${t.ended}</dt><dd data-testid="receipt-ended">${time(receipt.endedAt)}</dd>
    <dt>${t.paid}</dt><dd>${time(receipt.paidAt)}</dd>
  </dl>
  <table>
    <thead><tr><th scope="col">${t.item}</th><th scope="col">${t.vatRate}</th><th scope="col">${t.vat}</th><th scope="col">${t.amount}</th></tr></thead>
    <tbody>
${lineRows}
    </tbody>
    <tfoot>
      <tr><td>${t.orderAmount}</td><td></td><td data-testid="receipt-vat-total">${money(totals.vatTotal)}</td><td data-testid="receipt-order-amount">${money(totals.orderAmount)}</td></tr>
      <tr><td colspan="3">${t.tip} <span class="muted tip-note">${t.tipNote}</span></td><td data-testid="receipt-tip">${money(totals.tipAmount)}</td></tr>
      <tr class="total"><td colspan="3">${t.total}</td><td data-testid="receipt-total">${money(receipt.totalAmount)}</td></tr>
    </tfoot>
  </table>
  <table>
    <caption>${t.vat}</caption>
    <thead><tr><th scope="col">${t.vatRate}</th><th scope="col">${t.net}</th><th scope="col">${t.vat}</th><th scope="col">${t.amount}</th></tr></thead>
    <tbody>
${vatRows}
    </tbody>
  </table>
  <dl>
    <dt>${t.method}</dt><dd data-testid="receipt-method">${escapeHtml(method)}</dd>
    ${receipt.pspReference ? `<dt>${t.reference}</dt><dd data-testid="receipt-psp-reference">${escapeHtml(receipt.pspReference)}</dd>` : ''}
    <dt>${t.receiptId}</dt><dd>${escapeHtml(receipt.merchantOrderId)}</dd>
  </dl>
  <button class="print" type="button">${t.print}</button>
</article>`,
  );
}

export function receiptNotFoundHtml(locale: Locale): string {
  const t = RECEIPT_TEXT[locale];
  return page(locale, t.notFoundTitle, `<article class="sheet" data-testid="receipt-not-found"><h1>${t.notFoundTitle}</h1><p>${t.notFound}</p></article>`);
}
