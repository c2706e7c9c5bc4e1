/**
 * The running version end to end: a real kiosk core (the one Electron's main process runs, with
 * appVersion = app.getVersion()) reports it in tablet:status, and GET /admin/cabs shows it
 * next to the version the rollout offers that cab.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import { testConfig } from '../core/helpers.js';
import { admin, until } from '../relay/helpers.js';
import { addCabs, startRelayWithUpdates, writeRelease } from './fixtures.js';

describe('running version in GET /admin/cabs', () => {
  let relay: Awaited<ReturnType<typeof startRelayWithUpdates>>;
  let core: KioskCore;

  beforeAll(async () => {
    relay = await startRelayWithUpdates();
  });
  afterAll(async () => {
    await core?.stop();
    await relay?.app.close();
  });

  it('shows what the kiosk runs and what it is offered', async () => {
    const token = (await addCabs(relay.url, ['cab-9'])).get('cab-9')!;
    for (const v of ['1.0.0', '1.1.0']) {
      await writeRelease(relay.updatesDir, v);
      await admin(relay.url, 'POST', '/admin/releases', { version: v });
    }
    await admin(relay.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 });
    await admin(relay.url, 'PUT', '/admin/rollout', { version: '1.1.0', percent: 0, cabs: ['cab-9'] });

    core = createKioskCore(testConfig({ relayUrl: relay.url, pspUrl: 'http://127.0.0.1:9', cabId: 'cab-9', deviceToken: token, appVersion: '1.0.0' }));
    await core.start();
    const cab = async () => ((await admin(relay.url, 'GET', '/admin/cabs')).body.cabs as any[]).find((c) => c.cabId === 'cab-9');
    await until(async () => (await cab())?.appVersion === '1.0.0', 'the kiosk’s tablet:status');
    expect(await cab()).toMatchObject({ online: true, appVersion: '1.0.0', rideState: 'idle', outboxDepth: 0, targetVersion: '1.1.0', targetReason: 'named' });
  });
});
