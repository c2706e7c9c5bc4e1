/**
 * Driver commands go to the core fire-and-forget; the new state arrives as a snapshot. Only a
 * refusal comes back here, shown as a toast with the core's own message.
 */
import type { CabpayApi } from '../../protocol/kiosk-api.js';
import type { Result } from '../../protocol/result.js';
import { driverLocale } from './hooks.js';
import { errorText } from './command-errors.js';
import { translate } from './i18n/index.js';
import { useUi } from './state.js';

function api(): CabpayApi {
  return window.cabpay;
}

/** Runs one command; resolves true when the core accepted it. Never throws. */
export async function run(command: (api: CabpayApi) => Promise<Result<null>>): Promise<boolean> {
  const ui = useUi.getState();
  try {
    const result = await command(api());
    if (!result.ok) ui.showToast(errorText(result.error, ui.snapshot ? driverLocale(ui.snapshot) : 'en'));
    return result.ok;
  } catch (err) {
    const locale = ui.snapshot?.locale ?? 'en';
    ui.showToast(translate(locale, 'error.noAnswer', { detail: err instanceof Error ? err.message : String(err) }));
    return false;
  }
}

/** "End ride": the fare typed on the keypad goes to the core first, then the ride ends. */
export async function endRideWithFare(fareMinor: number): Promise<boolean> {
  if (!(await run((a) => a.setFare(fareMinor)))) return false;
  return run((a) => a.endRide());
}
