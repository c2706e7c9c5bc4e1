/** Small React hooks over the store: the translator for the snapshot's locale, and a ticking clock. */
import { useEffect, useMemo, useState } from 'react';
import type { KioskSnapshot, Locale } from '../../protocol/kiosk-api.js';
import { translator, type Translate } from './i18n/index.js';
import { useUi } from './state.js';

/** Only rendered below the point where a snapshot exists (see App). */
export function useSnapshot(): KioskSnapshot {
  const snapshot = useUi((ui) => ui.snapshot);
  if (snapshot === null) throw new Error('useSnapshot() was used before the first snapshot arrived');
  return snapshot;
}

export function useLocale(): Locale {
  return useUi((ui) => ui.snapshot?.locale ?? 'en');
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
