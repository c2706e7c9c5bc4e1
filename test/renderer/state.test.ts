import { beforeEach, describe, expect, it } from 'vitest';
import type { CabpayApi, KioskSnapshot } from '../../protocol/kiosk-api.js';
import { connectStore, useUi } from '../../renderer/src/state.js';
import { idleSnapshot, ride } from '../../scripts/lib/renderer-fixtures.js';

/** A bridge whose getState answers only when the test says so. */
function scriptedApi(initial: KioskSnapshot) {
  const listeners = new Set<(s: KioskSnapshot) => void>();
  let answer: (s: KioskSnapshot) => void = () => {};
  const api = {
    getState: () => new Promise<KioskSnapshot>((resolve) => (answer = resolve)),
    onState: (listener: (s: KioskSnapshot) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as CabpayApi;
  return {
    api,
    push: (s: KioskSnapshot) => listeners.forEach((l) => l(s)),
    answerGetState: () => answer(initial),
    listenerCount: () => listeners.size,
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  useUi.setState({ snapshot: null, keypadDigits: '', keypadRideId: null, cancelDialogOpen: false, toast: null });
});

describe('the renderer store', () => {
  it('takes the current snapshot from getState', async () => {
    const bridge = scriptedApi(idleSnapshot({ outboxDepth: 3 }));
    connectStore(bridge.api);
    bridge.answerGetState();
    await tick();
    expect(useUi.getState().snapshot?.outboxDepth).toBe(3);
  });

  it('never lets a late getState answer overwrite a newer pushed snapshot', async () => {
    const bridge = scriptedApi(idleSnapshot({ outboxDepth: 1 }));
    connectStore(bridge.api);
    bridge.push(idleSnapshot({ outboxDepth: 2 }));
    bridge.answerGetState();
    await tick();
    expect(useUi.getState().snapshot?.outboxDepth).toBe(2);
  });

  it('unsubscribes from the bridge', () => {
    const bridge = scriptedApi(idleSnapshot());
    const stop = connectStore(bridge.api);
    expect(bridge.listenerCount()).toBe(1);
    stop();
    expect(bridge.listenerCount()).toBe(0);
  });

  it('keeps the keypad buffer while the ride stays the same, and resets it for a new ride', () => {
    const ui = useUi.getState();
    ui.receiveSnapshot(idleSnapshot({ ride: ride('on_ride', { rideId: 'a' }) }));
    ui.pressKey('4');
    ui.pressKey('5');
    ui.setCancelDialogOpen(true);
    useUi.getState().receiveSnapshot(idleSnapshot({ ride: ride('on_ride', { rideId: 'a' }), outboxDepth: 1 }));
    expect(useUi.getState().keypadDigits).toBe('45');
    expect(useUi.getState().cancelDialogOpen).toBe(true);
    useUi.getState().receiveSnapshot(idleSnapshot({ ride: ride('on_ride', { rideId: 'b' }) }));
    expect(useUi.getState().keypadDigits).toBe('');
    expect(useUi.getState().cancelDialogOpen).toBe(false);
  });

  it('after a reload mid-ride, starts the keypad from the fare the core holds', () => {
    const lines = [{ id: 'fare', kind: 'fare' as const, label: 'Taxi fare', amount: 12350, vatRate: 6 }];
    useUi.getState().receiveSnapshot(idleSnapshot({ ride: ride('on_ride', { rideId: 'c', lines }) }));
    expect(useUi.getState().keypadDigits).toBe('12350');
  });

  it('shows one toast at a time, each with a new id', () => {
    useUi.getState().showToast('first');
    const first = useUi.getState().toast;
    useUi.getState().showToast('second');
    expect(useUi.getState().toast?.message).toBe('second');
    expect(useUi.getState().toast?.id).not.toBe(first?.id);
    useUi.getState().closeToast();
    expect(useUi.getState().toast).toBeNull();
  });
});

describe('the renderer store when the bridge fails', () => {
  it('says so in a toast, in words, when the first snapshot cannot be read', async () => {
    const api = {
      getState: () => Promise.reject(new Error('bridge_offline')),
      onState: () => () => {},
    } as unknown as CabpayApi;
    connectStore(api);
    await tick();
    expect(useUi.getState().toast?.message).toBe('The screen could not read the kiosk state (bridge_offline). Restart the kiosk if this stays.');
  });
});
