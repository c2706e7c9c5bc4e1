/**
 * Command refusals the renderer words itself, in the driver's language, from the core's stable
 * code; any other code shows the core's own (English) message.
 */
import type { Locale } from '../../protocol/kiosk-api.js';
import type { MessageKey } from './i18n/en.js';
import { translate } from './i18n/index.js';

const ERROR_KEYS = {
  pin_wrong: 'error.pin_wrong',
  pin_locked_out: 'error.pin_locked_out',
  settings_locked: 'error.settings_locked',
  pin_not_configured: 'error.pin_not_configured',
  // retryPayment when the passenger's check-in (Vipps) is gone: only a new scan helps.
  scan_needed: 'error.scan_needed',
  // A ride on the attention list that something else settled meanwhile.
  not_needing_attention: 'error.not_needing_attention',
} as const satisfies Record<string, MessageKey>;

export function errorText(error: { code: string; message: string }, locale: Locale): string {
  return Object.hasOwn(ERROR_KEYS, error.code) ? translate(locale, ERROR_KEYS[error.code as keyof typeof ERROR_KEYS]) : error.message;
}
