/**
 * The sandboxed preload: exposes exactly `window.cabpay` (CabpayApi) and nothing else. No
 * ipcRenderer, no event objects, no Node values ever reach the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { CabpayApi, KioskCommand, KioskSnapshot } from '../protocol/kiosk-api.js';
import type { Result } from '../protocol/result.js';
import { IPC_COMMAND, IPC_GET_STATE, IPC_STATE } from './ipc-channels.js';
import { commandMethods } from '../protocol/kiosk-commands.js';

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
  ...commandMethods(command),
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
