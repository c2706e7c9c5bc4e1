import { describe, expect, it, vi } from 'vitest';
import { baseSnapshot } from './helpers/memory-core.js';

const bridge = vi.hoisted(() => ({
  exposed: [] as { key: string; api: Record<string, unknown> }[],
  invoke: vi.fn(),
  listeners: new Map<string, (event: unknown, payload: unknown) => void>(),
}));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => bridge.exposed.push({ key, api }) },
  ipcRenderer: {
    invoke: bridge.invoke,
    on: (channel: string, listener: (event: unknown, payload: unknown) => void) => bridge.listeners.set(channel, listener),
  },
}));

await import('../../electron/preload.js');
const { IPC_COMMAND, IPC_GET_STATE, IPC_STATE } = await import('../../electron/ipc-channels.js');

const apiKeys = [
  'addExtra',
  'cancelRide',
  'dismiss',
  'endRide',
  'getState',
  'markPaidOtherwise',
  'onState',
  'removeExtra',
  'setFare',
  'setLocale',
  'setTheme',
  'startRide',
  'unlockSettings',
  'lockSettings',
  'saveDriverSettings',
  'chooseTip',
  'retryPayment',
  'refundRide',
  'markRideSeen',
].sort();
const api = () => bridge.exposed[0]!.api as unknown as import('../../protocol/kiosk-api.js').CabpayApi;

describe('preload', () => {
  it('exposes exactly window.cabpay with the CabpayApi functions and nothing else', () => {
    expect(bridge.exposed).toHaveLength(1);
    expect(bridge.exposed[0]!.key).toBe('cabpay');
    expect(Object.keys(bridge.exposed[0]!.api).sort()).toEqual(apiKeys);
    for (const value of Object.values(bridge.exposed[0]!.api)) expect(typeof value).toBe('function');
  });

  it('sends each command as one validated-shape invoke on cabpay:command', async () => {
    bridge.invoke.mockResolvedValue({ ok: true, value: null });
    expect(await api().setFare(12_300)).toEqual({ ok: true, value: null });
    await api().addExtra({ kind: 'toll', amountMinor: 2500 });
    await api().markPaidOtherwise();
    expect(bridge.invoke.mock.calls).toEqual([
      [IPC_COMMAND, { name: 'setFare', amountMinor: 12_300 }],
      [IPC_COMMAND, { name: 'addExtra', extra: { kind: 'toll', amountMinor: 2500 } }],
      [IPC_COMMAND, { name: 'markPaidOtherwise' }],
    ]);
  });

  it('turns a failed invoke into an ipc_failed Result instead of a rejection', async () => {
    bridge.invoke.mockRejectedValueOnce(new Error('No handler registered'));
    expect(await api().startRide()).toMatchObject({ ok: false, error: { code: 'ipc_failed' } });
  });

  it('unwraps getState and rejects on a refused read', async () => {
    const snapshot = baseSnapshot({ outboxDepth: 1 });
    bridge.invoke.mockResolvedValueOnce({ ok: true, value: snapshot });
    expect(await api().getState()).toEqual(snapshot);
    expect(bridge.invoke).toHaveBeenLastCalledWith(IPC_GET_STATE);
    bridge.invoke.mockResolvedValueOnce({ ok: false, error: { code: 'forbidden', message: 'no' } });
    await expect(api().getState()).rejects.toThrow('forbidden');
  });

  it('replays the latest snapshot to a new listener and forwards pushes without the IPC event', async () => {
    const push = bridge.listeners.get(IPC_STATE)!;
    const first = baseSnapshot({ outboxDepth: 2 });
    push({ sender: 'ipc-event-object' }, first);
    const seen: unknown[] = [];
    const stop = api().onState((s) => seen.push(s));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([first]);
    const second = baseSnapshot({ outboxDepth: 3 });
    push({ sender: 'ipc-event-object' }, second);
    expect(seen).toEqual([first, second]);
    stop();
    push({}, baseSnapshot());
    expect(seen).toHaveLength(2);
  });
});
