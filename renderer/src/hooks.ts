/** Small React hooks over the store: the translator for the snapshot's locale, and a ticking clock. */
import { createContext, useContext, useEffect, useMemo, useState } from 'react';
import type { KioskSnapshot, Locale } from '../../protocol/kiosk-api.js';
import { translator, type Translate } from './i18n/index.js';
import { useUi } from './state.js';

/** Only rendered below the point where a snapshot exists (see App). */
export function useSnapshot(): KioskSnapshot {
  const snapshot = useUi((ui) => ui.snapshot);
  if (snapshot === null) throw new Error('useSnapshot() was used before the first snapshot arrived');
  return snapshot;
}

/**
 * The language of the part of the screen being rendered: the driver's side follows the
 * driver's own setting, the passenger's side the flag row. Outside a provider: the passenger's.
 */
export const PaneLocale = createContext<Locale | null>(null);

export function useLocale(): Locale {
  const pane = useContext(PaneLocale);
  const passenger = useUi((ui) => ui.snapshot?.locale ?? 'en');
  return pane ?? passenger;
}

/** The driver's language: their own setting, or the passenger's choice when they have none. */
export function driverLocale(snapshot: KioskSnapshot): Locale {
  return snapshot.driver?.locale ?? snapshot.locale;
}

/** The translator for the driver's side, wherever it is called from (the screens build both panes). */
export function useDriverT(): Translate {
  const locale = useUi((ui) => (ui.snapshot ? driverLocale(ui.snapshot) : 'en'));
  return useMemo(() => translator(locale), [locale]);
}

export function useT(): Translate {
  const locale = useLocale();
  return useMemo(() => translator(locale), [locale]);
}

/** The current time, refreshed every `intervalMs`; for durations and the auto theme. */
export function useNow(intervalMs: number): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
