/**
 * A reinstalled tablet against the real relay: the kiosk core starts from an empty data folder
 * (lastSeq 0) after the relay pruned the events an earlier install acked. The relay tells it
 * where the log starts (`log.start`); it applies the rest and keeps up with new events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import type { KioskConfig } from '../../electron/core/config.js';
import { KioskStore } from '../../electron/core/store.js';
import { addCab, hookBody, makeSigner, postJson, qrHook, startInProcess, tempDir, until, type Signer } from '../relay/helpers.js';
import { quietLogger, testConfig, waitForState } from './helpers.js';

const CAB_ID = 'CAB-7';
const QR = 'CAB-7-QR';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startCore(config: KioskConfig): Promise<KioskCore> {
  const core = createKioskCore(config, { logger: quietLogger, random: () => 0.5 });
  cleanups.push(() => core.stop());
  await core.start();
  await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'the core online at the relay');
  return core;
}

async function scan(signer: Signer, url: string, sessionId: string): Promise<number> {
  const res = await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook(QR, { session_id: sessionId })));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.seq as number;
}

describe('kiosk core resync after the relay pruned its log', () => {
  it('a reinstalled kiosk (lastSeq 0) is told where the log starts, applies the rest and is not stuck', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    // A long ack timeout: a tablet stuck at the gap would show as a missed deadline, not a slow pass.
    const { app, url } = await startInProcess(dir, signer, { ackTimeoutMs: 30_000 });
    cleanups.push(() => app.close());
    const deviceToken = await addCab(url, CAB_ID, [QR]);
    const config = (dataDir: string): KioskConfig => testConfig({ relayUrl: url, pspUrl: url, cabId: CAB_ID, deviceToken, dataDir });

    const firstInstall = await startCore(config(tempDir('cabpay-core-')));
    for (let i = 1; i <= 3; i++) await scan(signer, url, `first-${i}`);
    await waitForState(firstInstall, (s) => s.session?.sessionId === 'first-3', 10_000, 'the first install at session first-3');
    await until(async () => (await app.store.getCab(CAB_ID))?.ackedSeq === 3, 'events 1..3 acked');
    await firstInstall.stop();
    expect((await app.store.prune(Date.now() + 1)).events).toBe(3);

    // Reinstalled: an empty data folder. A passenger scans meanwhile (the cab was seen moments ago).
    expect(await scan(signer, url, 'while-reinstalled')).toBe(4);
    const freshDataDir = tempDir('cabpay-core-');
    const reinstalled = await startCore(config(freshDataDir));
    await waitForState(reinstalled, (s) => s.session?.sessionId === 'while-reinstalled', 10_000, 'the event after the pruned ones applied');

    // Live from here on: the next event is applied as usual.
    expect(await scan(signer, url, 'live')).toBe(5);
    await waitForState(reinstalled, (s) => s.session?.sessionId === 'live', 10_000, 'the next live event applied');
    await until(async () => (await app.store.getCab(CAB_ID))?.ackedSeq === 5, 'acked through 5');
    expect((await app.store.getCab(CAB_ID))?.backlog).toBe(0);

    await reinstalled.stop();
    const store = KioskStore.open(freshDataDir);
    try {
      expect(store.lastSeq()).toBe(5);
      expect(store.isEventApplied((await app.store.eventsAfter(CAB_ID, 4, 1))[0]!.id)).toBe(true);
    } finally {
      store.close();
    }
  });
});
