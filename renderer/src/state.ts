/**
 * The renderer's store. The snapshot is the core's, replaced whole on every push; the only
 * state owned here is local UI state (the keypad buffer, the cancel dialog, the toast).
 */
import { create } from 'zustand';
import type { CabpayApi, KioskSnapshot } from '../../protocol/kiosk-api.js';
import { nextNotice, type AttentionNotice } from './attention.js';
import { fareLine } from './fare.js';
import { translate } from './i18n/index.js';
import { minorToDigits, pressKey, type KeypadKey } from './keypad.js';

export interface Toast {
  id: number;
  message: string;
}

export interface UiState {
  snapshot: KioskSnapshot | null;
  /** Digits typed for the fare of `keypadRideId`; reset when another ride comes along. */
  keypadDigits: string;
  keypadRideId: string | null;
  cancelDialogOpen: boolean;
  /** The driver-settings dialog (its PIN pad, or the settings once the core unlocked them). */
  settingsOpen: boolean;
  toast: Toast | null;
  /** The rides-that-need-attention dialog, and the ride whose details it shows (null: the list). */
  attentionOpen: boolean;
  attentionRideId: string | null;
  /** News about a ride the driver left (paid or failed since), shown in the header chip for a while. */
  attentionNotice: AttentionNotice | null;
  /** News already told, so each change is told once. */
  attentionTold: ReadonlySet<string>;
  receiveSnapshot(snapshot: KioskSnapshot): void;
  pressKey(key: KeypadKey): void;
  setCancelDialogOpen(open: boolean): void;
  setSettingsOpen(open: boolean): void;
  showToast(message: string): void;
  closeToast(): void;
  openAttention(rideId?: string | null): void;
  closeAttention(): void;
  closeAttentionNotice(): void;
}

let toastSeq = 0;

export const useUi = create<UiState>()((set) => ({
  snapshot: null,
  keypadDigits: '',
  keypadRideId: null,
  cancelDialogOpen: false,
  settingsOpen: false,
  toast: null,
  attentionOpen: false,
  attentionRideId: null,
  attentionNotice: null,
  attentionTold: new Set(),
  receiveSnapshot: (snapshot) =>
    set((ui) => {
      const news = nextNotice(ui.attentionTold, snapshot.ridesNeedingAttention ?? [], { first: ui.snapshot === null, now: Date.now() });
      const attention = { attentionTold: news.told, ...(news.notice ? { attentionNotice: news.notice } : {}) };
      const rideId = snapshot.ride?.rideId ?? null;
      if (rideId === ui.keypadRideId) return { snapshot, ...attention };
      // A new ride (or a reload mid-ride): start from the fare the core already holds.
      const fare = snapshot.ride ? fareLine(snapshot.ride.lines) : undefined;
      return {
        snapshot,
        ...attention,
        keypadRideId: rideId,
        keypadDigits: fare ? minorToDigits(fare.amount) : '',
        cancelDialogOpen: false,
      };
    }),
  pressKey: (key) => set((ui) => ({ keypadDigits: pressKey(ui.keypadDigits, key) })),
  setCancelDialogOpen: (open) => set({ cancelDialogOpen: open }),
  setSettingsOpen: (open) => set({ settingsOpen: open }),
  showToast: (message) => set({ toast: { id: ++toastSeq, message } }),
  closeToast: () => set({ toast: null }),
  openAttention: (rideId = null) => set({ attentionOpen: true, attentionRideId: rideId, attentionNotice: null }),
  closeAttention: () => set({ attentionOpen: false, attentionRideId: null }),
  closeAttentionNotice: () => set({ attentionNotice: null }),
}));

/**
 * Feeds the store from the bridge: subscribe first so no push is missed, then fetch the
 * current snapshot unless a push already arrived. Returns the unsubscribe function.
 */
export function connectStore(api: CabpayApi): () => void {
  let pushed = false;
  const unsubscribe = api.onState((snapshot) => {
    pushed = true;
    useUi.getState().receiveSnapshot(snapshot);
  });
  api.getState().then(
    (snapshot) => {
      if (!pushed) useUi.getState().receiveSnapshot(snapshot);
    },
    (err: unknown) => {
      const detail = err instanceof Error ? err.message : String(err);
      useUi.getState().showToast(translate(useUi.getState().snapshot?.locale ?? 'en', 'error.noState', { detail }));
    },
  );
  return unsubscribe;
}
