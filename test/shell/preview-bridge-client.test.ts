import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startPreviewHost, type PreviewHost } from '../../electron/preview/host.js';
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';
import { createPreviewBridge, type BridgeSocket, type PreviewBridge } from '../../renderer/src/bridge/preview-bridge.js';
import { MemoryCore } from './helpers/memory-core.js';

let dir: string;
let core: MemoryCore;
let host: PreviewHost;
let bridge: PreviewBridge | undefined;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-bridge-'));
  mkdirSync(path.join(dir, 'dist'));
  writeFileSync(path.join(dir, 'dist', 'index.html'), '<!doctype html>');
  core = new MemoryCore();
  host = await startPreviewHost({ core, port: 0, staticDir: path.join(dir, 'dist') });
});

afterEach(async () => {
  bridge?.close();
  bridge = undefined;
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The browser sends its page's origin; node's `ws` must be told. */
function browserLikeSocket(origin: string) {
  return (url: string) => new WebSocket(url, { origin }) as unknown as BridgeSocket;
}

function open(url = host.url, origin = url): PreviewBridge {
  bridge = createPreviewBridge({ url: `${url.replace('http', 'ws')}/bridge`, openSocket: browserLikeSocket(origin), minDelayMs: 20, maxDelayMs: 100 });
  return bridge;
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('renderer preview bridge', () => {
  it('resolves getState with the first state and runs commands with their results', async () => {
    const { api } = open();
    const first = await api.getState();
    expect(first.cab.cabId).toBe('cab-7');
    expect(await api.startRide()).toEqual({ ok: true, value: null });
    expect((await api.getState()).ride?.state).toBe('on_ride');
    expect(await api.startRide()).toMatchObject({ ok: false, error: { code: 'ride_in_progress' } });
    expect(await api.setTheme('night')).toEqual({ ok: true, value: null });
    expect(core.executed.map((c) => c.name)).toEqual(['startRide', 'startRide', 'setTheme']);
  });

  it('passes invalid arguments through to be refused by the host, not by a crash', async () => {
    const { api } = open();
    await api.getState();
    const result = await api.setFare(-1);
    expect(result).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(core.executed).toEqual([]);
  });

  it('pushes every change to onState listeners and replays the latest to a new one', async () => {
    const { api } = open();
    const seen: KioskSnapshot[] = [];
    const stop = api.onState((s) => seen.push(s));
    await until(() => seen.length === 1);
    core.publish({ outboxDepth: 2 });
    await until(() => seen.length === 2);
    expect(seen[1]!.outboxDepth).toBe(2);

    const late: KioskSnapshot[] = [];
    api.onState((s) => late.push(s));
    await until(() => late.length === 1);
    expect(late[0]!.outboxDepth).toBe(2);

    stop();
    core.publish({ outboxDepth: 0 });
    await until(() => late.length === 2);
    expect(seen).toHaveLength(2);
  });

  it('answers commands with bridge_offline while disconnected, then reconnects on its own', async () => {
    const { api } = open();
    await api.getState();
    const port = new URL(host.url).port;
    await host.close();
    const offline = await api.startRide();
    expect(offline).toMatchObject({ ok: false, error: { code: 'bridge_offline' } });
    expect(core.executed).toEqual([]);

    host = await startPreviewHost({ core, port: Number(port), staticDir: path.join(dir, 'dist') });
    const seen: KioskSnapshot[] = [];
    api.onState((s) => seen.push(s));
    // A fresh state arrives once the bridge has reconnected by itself.
    await until(() => seen.length >= 2);
    expect(await api.startRide()).toEqual({ ok: true, value: null });
  });

  it('never connects from a foreign origin, so commands stay offline', async () => {
    const { api } = open(host.url, 'http://evil.example');
    await new Promise((r) => setTimeout(r, 100));
    expect(await api.startRide()).toMatchObject({ ok: false, error: { code: 'bridge_offline' } });
    expect(core.executed).toEqual([]);
  });
});
