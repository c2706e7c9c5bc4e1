/**
 * The driver and passenger experience (docs/experience.md) through the real preview, relay and sandbox in Debian Chromium:
 * every screen in both themes, axe-core (no serious or critical violations), every QR decodes
 * to what it must, every visible string changes with the language, and the receipt page shows
 * the right VAT and totals for a ride with extras at several VAT rates.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { locales, type Locale } from '../../protocol/kiosk-api.js';
import { formatMoney } from '../../protocol/money.js';
import { receiptTotals } from '../../protocol/receipt.js';
import { EXPERIENCE_CAB, EXPERIENCE_FLEET, startExperienceStack } from '../../scripts/lib/experience-stack.js';
import { walkKiosk, type Scene, type SceneName } from '../../scripts/lib/kiosk-walk.js';
import { decodeQrFromPng } from '../../scripts/lib/qr.js';

test.describe.configure({ mode: 'serial', timeout: 240_000 });

const ALL_SCENES: SceneName[] = [
  'idle',
  'settings-pin',
  'settings',
  'passenger-ready',
  'on-ride',
  'cancel-confirm',
  'awaiting-payment',
  'phone-awaiting',
  'paid',
  'phone-paid',
  'ended',
  'failed',
  'canceled',
  'offline',
  'unauthorized',
];
const EXPECTED_SCENES = ALL_SCENES;

const plain = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();
const sek = (minor: number) => plain(formatMoney(minor, 'SEK', 'en'));

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

async function decodeQr(page: Page, testId: string): Promise<string | null> {
  return decodeQrFromPng(await page.getByTestId(testId).screenshot());
}

for (const theme of ['day', 'night'] as const) {
  test(`every screen in the ${theme} theme: no serious axe violations, and every QR decodes`, async ({ browser }) => {
    const stack = await startExperienceStack({ locale: 'en' });
    const seen: SceneName[] = [];
    try {
      await walkKiosk(browser, stack, { theme, revokeAtEnd: true, bookingFeeVat: 25 }, async (scene: Scene) => {
        seen.push(scene.name);
        const page = scene.page;
        if (scene.kind === 'kiosk') {
          expect(await page.locator('html').getAttribute('data-theme'), scene.name).toBe(theme);
          // Under a modal dialog (PIN, settings, cancel) the QR is dimmed on purpose: not for scanning.
          const dialog = await page.locator('[role="dialog"], [role="alertdialog"]').count();
          const qrs = await page.getByTestId('cab-qr').count();
          if (qrs > 0 && dialog === 0) expect(await decodeQr(page, 'cab-qr'), `${scene.name}: cab QR`).toBe(stack.qrData);
          if (scene.name === 'idle' || scene.name === 'ended' || scene.name === 'failed' || scene.name === 'offline')
            expect(qrs, `${scene.name} shows the cab's QR`).toBe(1);
          if (scene.name === 'paid') {
            const url = await decodeQr(page, 'receipt-qr');
            expect(url, 'the receipt QR').toMatch(new RegExp(`^${stack.relayUrl}/receipts/[A-Za-z0-9_-]{22}$`));
          }
        }
        expect(await seriousViolations(page), `${theme} ${scene.name}`).toEqual([]);
      });
      expect([...new Set(seen)].sort()).toEqual([...EXPECTED_SCENES].sort());
    } finally {
      await stack.stop();
    }
  });
}

test('the receipt page shows the fleet, the cab and the right VAT and totals for extras at three VAT rates', async ({ browser }) => {
  const stack = await startExperienceStack({ locale: 'en' });
  try {
    let receiptUrl: string | null = null;
    await walkKiosk(browser, stack, { theme: 'day', bookingFeeVat: 25 }, async (scene) => {
      if (scene.name === 'paid') receiptUrl = await decodeQr(scene.page, 'receipt-qr');
    });
    expect(receiptUrl).not.toBeNull();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await page.goto(receiptUrl!);
    // The ride the walk drives: fare 318.00 (6%), toll 45.00 (0%), airport fee 95.00 (6%),
    // booking fee 30.00 (25%, set in the driver settings), and a 10% tip.
    const lines = [
      { id: 'fare', kind: 'fare' as const, label: 'Fare', amount: 31_800, vatRate: 6 },
      { id: 'extra-1', kind: 'toll' as const, label: 'Toll', amount: 4_500, vatRate: 0 },
      { id: 'extra-2', kind: 'airport_fee' as const, label: 'Airport fee', amount: 9_500, vatRate: 6 },
      { id: 'extra-3', kind: 'booking_fee' as const, label: 'Booking fee', amount: 3_000, vatRate: 25 },
    ];
    const tip = Math.floor((48_800 * 10) / 100);
    const expected = receiptTotals({ lines, tipAmount: tip });
    expect(expected.vatByRate.map((g) => g.vat)).toEqual([600, 2_338, 0]);

    await expect(page.getByTestId('receipt-fleet')).toHaveText(EXPERIENCE_FLEET.name);
    await expect(page.getByTestId('receipt-org-number')).toHaveText(EXPERIENCE_FLEET.orgNumber);
    await expect(page.getByTestId('receipt-plate')).toHaveText(EXPERIENCE_CAB.plate);
    await expect(page.getByTestId('receipt-driver')).toHaveText('D-4711');
    await expect(page.getByTestId('receipt-notice')).toContainText('not the taximeter receipt');
    expect((await page.getByTestId('receipt-line-vat').allTextContents()).map(plain)).toEqual(expected.lines.map((l) => sek(l.vatAmount)));
    const groups = page.getByTestId('receipt-vat-group');
    expect(await groups.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-vat-rate')))).toEqual(['25', '6', '0']);
    expect((await page.getByTestId('receipt-vat-amount').allTextContents()).map(plain)).toEqual(expected.vatByRate.map((g) => sek(g.vat)));
    expect(plain(await page.getByTestId('receipt-vat-total').textContent())).toBe(sek(expected.vatTotal));
    expect(plain(await page.getByTestId('receipt-order-amount').textContent())).toBe(sek(48_800));
    expect(plain(await page.getByTestId('receipt-tip').textContent())).toBe(sek(tip));
    expect(plain(await page.getByTestId('receipt-total').textContent())).toBe(sek(48_800 + tip));
    await expect(page.getByTestId('receipt-psp-reference')).not.toBeEmpty();
    expect(await seriousViolations(page)).toEqual([]);
    // Nothing overflows a 390 px phone.
    expect(await page.locator('html').evaluate((html) => (html as unknown as { scrollWidth: number }).scrollWidth)).toBeLessThanOrEqual(390);
    await context.close();
  } finally {
    await stack.stop();
  }
});

/** Visible strings that may be the same in every language: names, codes, amounts, times. */
function isLanguageNeutral(line: string): boolean {
  const neutral = new Set<string>([
    EXPERIENCE_CAB.plate,
    EXPERIENCE_CAB.label,
    EXPERIENCE_CAB.cabId,
    'D-4711',
    'SV',
    'NB',
    'DA',
    'FI',
    'EN',
    'Svenska',
    'Norsk',
    'Dansk',
    'Suomi',
    'English',
  ]);
  if (neutral.has(line)) return true;
  // Amounts, percentages, times and digits only.
  return !/\p{L}{3,}/u.test(line.replace(/\b(kr|SEK)\b/g, ''));
}

async function visibleLines(page: Page): Promise<string[]> {
  return (await page.locator('body').innerText())
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

test('switching the language changes every visible string on every screen, with no English left', async ({ browser }) => {
  const stack = await startExperienceStack({ locale: 'en' });
  const leftovers: string[] = [];
  let checked = 0;
  try {
    await walkKiosk(browser, stack, { theme: 'day', revokeAtEnd: true }, async (scene) => {
      // The phone page is the PSP's; dialogs cover the flag row (their text follows the driver's language).
      if (scene.kind !== 'kiosk' || scene.name === 'settings' || scene.name === 'settings-pin' || scene.name === 'cancel-confirm') return;
      const page = scene.page;
      const setLocale = async (locale: Locale) => {
        await page.getByTestId(`locale-${locale}`).click();
        await expect(page.locator('html')).toHaveAttribute('lang', locale);
        await page.waitForTimeout(100);
      };
      await setLocale('en');
      const english = new Set(await visibleLines(page));
      for (const locale of locales.filter((l) => l !== 'en')) {
        await setLocale(locale);
        for (const line of await visibleLines(page)) {
          if (english.has(line) && !isLanguageNeutral(line)) leftovers.push(`${scene.name} [${locale}]: "${line}"`);
        }
      }
      await setLocale('en');
      checked++;
    });
    expect(checked).toBeGreaterThanOrEqual(9);
    expect(leftovers).toEqual([]);
  } finally {
    await stack.stop();
  }
});
