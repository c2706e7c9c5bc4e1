/**
 * Rides that need attention on screen: which news the header chip tells (pure, under Node), and in
 * Chromium the header button, the list, a ride's details and the commands they send, the news
 * when a ride the driver left is paid or fails, in the driver's language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionButtonKey, nextNotice } from '../../renderer/src/attention.js';
import { calls, chromiumPath, haveChromium, openKiosk, plain, push, startHarness, type Harness } from '../../scripts/lib/browser-harness.js';
import { attentionRide, idleSnapshot, ride } from '../../scripts/lib/renderer-fixtures.js';

const NOW = Date.parse('2026-11-21T10:00:00.000Z');

describe('the news the header chip tells', () => {
  it('tells a ride’s change once, the newest first; on a reload only what just happened', () => {
    const paid = attentionRide({ rideId: 'p', status: 'paid', paidTotal: 27_000, outcomeAt: '2026-11-21T09:59:50.000Z' });
    const failed = attentionRide({ rideId: 'f', status: 'failed', outcomeAt: '2026-11-21T09:59:55.000Z' });
    const waiting = attentionRide({ rideId: 'w', status: 'unconfirmed', outcomeAt: null });
    const first = nextNotice(new Set(), [paid, failed, waiting], { first: false, now: NOW });
    expect(first.notice).toEqual({ rideId: 'f', outcome: 'failed', at: failed.outcomeAt });
    expect(nextNotice(first.told, [paid, failed, waiting], { first: false, now: NOW }).notice).toBeNull();
    // The same ride with new news (a late payment after the failure) is told again.
    const late = { ...failed, status: 'paid' as const, outcomeAt: '2026-11-21T10:00:00.000Z' };
    expect(nextNotice(first.told, [late], { first: false, now: NOW }).notice).toEqual({ rideId: 'f', outcome: 'paid', at: late.outcomeAt });
    // After a reload: old news stays on the list without being told again; fresh news is told.
    const old = attentionRide({ rideId: 'o', status: 'paid', outcomeAt: '2026-11-21T09:40:00.000Z' });
    expect(nextNotice(new Set(), [old], { first: true, now: NOW }).notice).toBeNull();
    expect(nextNotice(new Set(), [paid], { first: true, now: NOW }).notice).toMatchObject({ rideId: 'p' });
  });

  it('words the header button as waiting while every listed ride only waits for its payment', () => {
    expect(attentionButtonKey([attentionRide({ status: 'unconfirmed' })])).toBe('pending.rides');
    expect(attentionButtonKey([attentionRide({ status: 'unconfirmed' }), attentionRide({ status: 'failed' })])).toBe('attention.button');
  });
});

if (!haveChromium) console.log(`Skipping the attention browser tests: no Chromium at ${chromiumPath} (apt-get install -y chromium).`);

describe.skipIf(!haveChromium)('rides that need attention in Chromium', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  const onRide = (over: Parameters<typeof idleSnapshot>[0] = {}) => idleSnapshot({ locale: 'sv', theme: 'day', ride: ride('on_ride', { lines: [] }), ...over });

  it('the header button opens the list; a ride’s details; Paid another way and Mark as seen name the ride', async () => {
    const failed = attentionRide();
    const open = attentionRide({ rideId: 'r-open', status: 'open', failure: null, outcomeAt: null, startedAt: '2026-11-21T09:10:00.000Z' });
    const page = await openKiosk(harness, onRide({ ridesNeedingAttention: [failed, open] }));
    expect(await page.getByTestId('pending-rides').textContent()).toBe('2');
    expect(await page.getByTestId('attention-open').textContent()).toContain('tidigare resor behöver åtgärd');
    expect(await page.getByTestId('attention-notice').count()).toBe(0); // old news on a reload is not told again

    await page.getByTestId('attention-open').click();
    const dialog = page.getByTestId('attention-dialog');
    await dialog.waitFor();
    expect(await dialog.getByRole('heading').textContent()).toBe('Resor som behöver åtgärd');
    expect(await page.getByTestId(`attention-row-${failed.rideId}`).getAttribute('data-status')).toBe('failed');
    expect(await page.getByTestId(`attention-row-${open.rideId}`).getByTestId('attention-status').textContent()).toBe('Ej betald');

    await page.getByTestId(`attention-row-${failed.rideId}`).click();
    const detail = page.getByTestId('attention-detail');
    expect(await detail.getAttribute('data-ride-id')).toBe(failed.rideId);
    expect(plain(await page.getByTestId('attention-total').textContent())).toBe('245,00 kr');
    expect(await page.getByTestId('attention-failure').getAttribute('data-failure-code')).toBe('payment_failed');
    await page.getByTestId('attention-paid-otherwise').click();
    await expect.poll(() => calls(page)).toEqual([['markPaidOtherwise', failed.rideId]]);
    // Accepted: back to the list.
    await page.getByTestId('attention-list').waitFor();

    await page.getByTestId(`attention-row-${open.rideId}`).click();
    await page.getByTestId('attention-seen').click();
    await expect
      .poll(() => calls(page))
      .toEqual([
        ['markPaidOtherwise', failed.rideId],
        ['markRideSeen', open.rideId],
      ]);
    await page.getByTestId('attention-close').click();
    expect(await page.getByTestId('attention-dialog').count()).toBe(0);
  });

  it('a ride waiting for its payment offers no Paid another way; the button says it is awaiting payment', async () => {
    const waiting = attentionRide({ status: 'unconfirmed', failure: null, outcomeAt: null, actions: ['seen'] });
    const page = await openKiosk(harness, onRide({ locale: 'en', ridesNeedingAttention: [waiting] }));
    expect(await page.getByTestId('attention-open').textContent()).toContain('earlier ride awaiting payment');
    await page.getByTestId('attention-open').click();
    await page.getByTestId(`attention-row-${waiting.rideId}`).click();
    expect(await page.getByTestId('attention-paid-otherwise').count()).toBe(0);
    expect(await page.getByTestId('attention-seen').isVisible()).toBe(true);
  });

  it('the header chip tells the driver, in their language, when a ride they left is paid or fails; a tap opens that ride', async () => {
    const waiting = attentionRide({ status: 'unconfirmed', failure: null, outcomeAt: null, actions: ['seen'] });
    const page = await openKiosk(
      harness,
      onRide({
        locale: 'en',
        driver: { locale: 'nb', brightness: 80, driverId: null, settings: 'locked', lockedUntil: null },
        ridesNeedingAttention: [waiting],
      }),
      {},
      { timezoneId: 'UTC' },
    );
    expect(await page.getByTestId('attention-notice').count()).toBe(0);
    const now = new Date().toISOString();
    await push(
      page,
      onRide({
        locale: 'en',
        driver: { locale: 'nb', brightness: 80, driverId: null, settings: 'locked', lockedUntil: null },
        ridesNeedingAttention: [{ ...waiting, status: 'paid', paidTotal: 26_950, outcomeAt: now }],
      }),
    );
    const notice = page.getByTestId('attention-notice');
    await notice.waitFor();
    expect(await notice.getAttribute('data-outcome')).toBe('paid');
    expect(plain(await notice.textContent())).toContain('Turen fra 09:30 er betalt: 269,50 SEK');
    await page.getByTestId('attention-notice').click();
    expect(await page.getByTestId('attention-detail').getAttribute('data-ride-id')).toBe(waiting.rideId);
    expect(await page.getByTestId('attention-notice').count()).toBe(0);
    expect(await page.getByTestId('attention-open').isVisible()).toBe(true);

    await push(page, onRide({ locale: 'en', ridesNeedingAttention: [attentionRide({ rideId: 'r-2', outcomeAt: new Date().toISOString() })] }));
    await page.getByTestId('attention-notice').waitFor();
    expect(await page.getByTestId('attention-notice').getAttribute('data-outcome')).toBe('failed');
  });
});
