/**
 * Refusals the renderer words itself: the core's stable code picks a message in the driver's
 * language; any other code shows the core's own (English) text.
 */
import { describe, expect, it } from 'vitest';
import { locales } from '../../protocol/kiosk-api.js';
import { errorText } from '../../renderer/src/command-errors.js';
import { catalogs } from '../../renderer/src/i18n/index.js';

/** The core's text for retryPayment's refusal when the Vipps check-in is gone (ride-machine.ts). */
const scanNeeded = {
  code: 'scan_needed',
  message: "The passenger's check-in is no longer valid. Ask the passenger to scan the QR again; the payment is then sent by itself.",
};

describe('errorText', () => {
  it.each(locales)('%s: scan_needed (retryPayment without a live check-in) is worded from the catalog', (locale) => {
    const text = errorText(scanNeeded, locale);
    expect(text).toBe(catalogs[locale]['error.scan_needed']);
    expect(text).not.toBe(scanNeeded.message);
  });

  it('says it in each language, not in English everywhere', () => {
    const texts = locales.map((locale) => errorText(scanNeeded, locale));
    expect(new Set(texts).size).toBe(locales.length);
  });

  it('keeps the PIN refusals translated', () => {
    expect(errorText({ code: 'pin_wrong', message: 'Wrong PIN.' }, 'sv')).toBe(catalogs.sv['error.pin_wrong']);
  });

  it("shows the core's message for a code it does not word itself", () => {
    const refusal = { code: 'payment_in_flight', message: 'The payment request is being sent right now. Wait a moment, then try again.' };
    expect(errorText(refusal, 'nb')).toBe(refusal.message);
    // Inherited object keys are not codes.
    expect(errorText({ code: 'toString', message: 'core text' }, 'en')).toBe('core text');
  });
});
