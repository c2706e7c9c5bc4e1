import { describe, expect, it, vi } from 'vitest';

const ipcHandlers = vi.hoisted(() => new Map<string, (...args: any[]) => unknown>());
vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, handler: (...args: any[]) => unknown) => {
      if (ipcHandlers.has(channel)) throw new Error(`second handler for ${channel}`);
      ipcHandlers.set(channel, handler);
    },
    removeHandler: (channel: string) => ipcHandlers.delete(channel),
  },
}));

const { registerIpc, isTrustedSender } = await import('../../electron/ipc.js');
const { appLocation } = await import('../../electron/app-origin.js');
const { IPC_COMMAND, IPC_GET_STATE, IPC_STATE } = await import('../../electron/ipc-channels.js');
const { MemoryCore } = await import('./helpers/memory-core.js');

const location = appLocation(true, undefined);
const topFrame = (url: string) => ({ url, parent: null });
const appFrame = topFrame('app://cabpay/index.html');

function setup() {
  const core = new MemoryCore();
  const sent: { channel: string; payload: unknown }[] = [];
  const target = {
    url: 'app://cabpay/index.html',
    destroyed: false,
    isDestroyed() {
      return this.destroyed;
    },
    getURL() {
      return this.url;
    },
    send: (channel: string, payload: unknown) => sent.push({ channel, payload }),
  };
  const dispose = registerIpc({ core, location, targets: () => [target as never] });
  const command = (frame: unknown, arg: unknown) => ipcHandlers.get(IPC_COMMAND)!({ senderFrame: frame }, arg) as Promise<unknown>;
  const getState = (frame: unknown) => ipcHandlers.get(IPC_GET_STATE)!({ senderFrame: frame }) as unknown;
  return { core, sent, target, dispose, command, getState };
}

describe('IPC bridge', () => {
  it('runs a valid command from the app frame and returns its Result', async () => {
    const { core, command, dispose } = setup();
    expect(await command(appFrame, { name: 'setLocale', locale: 'fi' })).toEqual({ ok: true, value: null });
    expect(await command(appFrame, { name: 'cancelRide' })).toMatchObject({ ok: false, error: { code: 'no_ride' } });
    expect(core.executed).toEqual([{ name: 'setLocale', locale: 'fi' }, { name: 'cancelRide' }]);
    dispose();
  });

  it('refuses foreign, nested and vanished sender frames without touching the core', async () => {
    const { core, command, getState, dispose } = setup();
    const foreign = [
      topFrame('https://evil.example/'),
      topFrame('file:///tmp/index.html'),
      topFrame('app://evil/index.html'),
      { url: 'app://cabpay/index.html', parent: appFrame }, // an iframe inside our page
      null,
      undefined,
    ];
    for (const frame of foreign) {
      expect(await command(frame, { name: 'startRide' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(getState(frame)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(core.executed).toEqual([]);
    dispose();
  });

  it('refuses bad arguments with a bad_request Result naming the problem', async () => {
    const { core, command, dispose } = setup();
    for (const arg of [
      undefined,
      null,
      'startRide',
      {},
      { name: 'format-disk' },
      { name: 'setFare', amountMinor: 1.5 },
      { name: 'setFare', amountMinor: '100' },
      { name: 'setLocale', locale: 'xx' },
      { name: 'addExtra', extra: { kind: 'toll', amountMinor: 0 } },
    ]) {
      const result = (await command(appFrame, arg)) as { ok: boolean; error?: { code: string; message: string } };
      expect(result.ok, JSON.stringify(arg)).toBe(false);
      expect(result.error!.code).toBe('bad_request');
      expect(result.error!.message).toMatch(/Invalid kiosk command/);
    }
    expect(core.executed).toEqual([]);
    dispose();
  });

  it('turns a throwing core into an internal error Result', async () => {
    const { command, dispose } = setup();
    expect(await command(appFrame, { name: 'removeExtra', lineId: 'explode' })).toMatchObject({ ok: false, error: { code: 'internal' } });
    dispose();
  });

  it('answers getState with the snapshot and pushes changes only to the app page', async () => {
    const { core, getState, sent, target, dispose } = setup();
    expect(getState(appFrame)).toMatchObject({ ok: true, value: { cab: { cabId: 'cab-7' } } });
    core.publish({ outboxDepth: 4 });
    expect(sent).toEqual([{ channel: IPC_STATE, payload: expect.objectContaining({ outboxDepth: 4 }) }]);
    target.url = 'https://evil.example/';
    core.publish({ outboxDepth: 5 });
    target.url = 'app://cabpay/index.html';
    target.destroyed = true;
    core.publish({ outboxDepth: 6 });
    expect(sent).toHaveLength(1);
    dispose();
  });

  it('removes its handlers and its core subscription on dispose', () => {
    const { core, dispose } = setup();
    expect(core.listenerCount()).toBe(1);
    dispose();
    expect(ipcHandlers.size).toBe(0);
    expect(core.listenerCount()).toBe(0);
  });

  it('checks frames by origin, not by prefix', () => {
    expect(isTrustedSender(topFrame('app://cabpay.evil.example/') as never, location)).toBe(false);
    expect(isTrustedSender(topFrame('app://cabpay/deep/page.html?x=1') as never, location)).toBe(true);
  });
});
