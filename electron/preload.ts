/**
 * The sandboxed preload: exposes exactly `window.cabpay` (CabpayApi) and nothing else. No
 * ipcRenderer, no event objects, no Node values ever reach the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { CabpayApi, KioskCommand, KioskSnapshot } from '../protocol/kiosk-api.js';
import type { Result } from '../protocol/result.js';
import { IPC_COMMAND, IPC_GET_STATE, IPC_STATE } from './ipc-channels.js';

let latest: KioskSnapshot | null = null;
const listeners = new Set<(snapshot: KioskSnapshot) => void>();

ipcRenderer.on(IPC_STATE, (_event, snapshot: KioskSnapshot) => {
  latest = snapshot;
  for (const listener of listeners) {
    try {
      listener(snapshot);
    } catch (err) {
      console.error('cabpay: a state listener threw', err);
    }
  }
});

async function command(cmd: KioskCommand): Promise<Result<null>> {
  try {
    return (await ipcRenderer.invoke(IPC_COMMAND, cmd)) as Result<null>;
  } catch (err) {
    return { ok: false, error: { code: 'ipc_failed', message: `The kiosk did not answer: ${(err as Error).message}` } };
  }
}

async function getState(): Promise<KioskSnapshot> {
  const result = (await ipcRenderer.invoke(IPC_GET_STATE)) as Result<KioskSnapshot>;
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  latest = result.value;
  return result.value;
}

const cabpay = {
  startRide: () => command({ name: 'startRide' }),
  setFare: (amountMinor) => command({ name: 'setFare', amountMinor }),
  addExtra: (extra) => command({ name: 'addExtra', extra }),
  removeExtra: (lineId) => command({ name: 'removeExtra', lineId }),
  endRide: () => command({ name: 'endRide' }),
  cancelRide: () => command({ name: 'cancelRide' }),
  dismiss: () => command({ name: 'dismiss' }),
  markPaidOtherwise: () => command({ name: 'markPaidOtherwise' }),
  setLocale: (locale) => command({ name: 'setLocale', locale }),
  setTheme: (theme) => command({ name: 'setTheme', theme }),
  unlockSettings: (pin) => command({ name: 'unlockSettings', pin }),
  lockSettings: () => command({ name: 'lockSettings' }),
  saveDriverSettings: (settings) => command({ name: 'saveDriverSettings', settings }),
  getState,
  onState: (listener) => {
    listeners.add(listener);
    // A new listener sees the current snapshot at once, then every change.
    const replay = latest ? Promise.resolve(latest) : getState();
    replay.then(
      (snapshot) => {
        if (listeners.has(listener) && (latest === null || latest === snapshot)) listener(snapshot);
      },
      (err: unknown) => console.error('cabpay: could not read the kiosk state', err),
    );
    return () => {
      listeners.delete(listener);
    };
  },
} satisfies CabpayApi;

contextBridge.exposeInMainWorld('cabpay', cabpay);
