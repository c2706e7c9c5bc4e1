/** PUT /admin/cabs asks the cab's PSP to provision its QR codes; qrContent is stored and shown. */
import { afterAll, describe, expect, it } from 'vitest';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import { createLogger } from '../../backend-relay/logger.js';
import type { PspAdapter } from '../../backend-relay/psp/psp-adapter.js';
import { admin, makeSigner, relayConfig, tempDir } from './helpers.js';

describe('cab provisioning at the PSP', () => {
  let app: RelayApp;
  afterAll(() => app?.close());

  it('stores and returns qrContent, and answers 502 without changing the cab when the PSP fails', async () => {
    const dir = tempDir();
    let fail = false;
    const seen: unknown[] = [];
    const adapter: PspAdapter = {
      name: 'vipps',
      webhooks: [],
      async provisionCab(cab) {
        seen.push(cab);
        if (fail) throw new Error('Vipps answered 503');
        return { qrContent: `https://qr.vipps.no/c/${cab.qrCodes[0]}` };
      },
    };
    app = await buildRelayApp(relayConfig(dir, await makeSigner(dir)), { logger: createLogger('silent'), extraAdapters: [adapter] });
    const url = await app.listen();

    const put = await admin(url, 'PUT', '/admin/cabs/cab-v', { psp: 'vipps', qrCodes: ['MQR-1'], plate: 'EL123', label: 'Cab V' });
    expect(put.status).toBe(201);
    expect(put.body.qrContent).toBe('https://qr.vipps.no/c/MQR-1');
    expect(seen).toEqual([{ cabId: 'cab-v', plate: 'EL123', qrCodes: ['MQR-1'], enabled: true }]);
    expect(put.body.qrSetup).toBe('relay');
    expect((await admin(url, 'GET', '/admin/cabs')).body.cabs[0]).toMatchObject({ cabId: 'cab-v', qrContent: 'https://qr.vipps.no/c/MQR-1' });

    fail = true;
    const broken = await admin(url, 'PUT', '/admin/cabs/cab-v', { psp: 'vipps', qrCodes: ['MQR-2'], plate: 'EL999', label: 'Cab V' });
    expect(broken.status).toBe(502);
    expect(broken.body.error.code).toBe('psp_provisioning_failed');
    const after = (await admin(url, 'GET', '/admin/cabs')).body.cabs[0];
    expect(after).toMatchObject({ plate: 'EL123', qrCodes: ['MQR-1'], qrContent: 'https://qr.vipps.no/c/MQR-1' });

    // A Hips cab on a relay without the Hips merchant key: registered, its QR left to the fleet.
    const hips = await admin(url, 'PUT', '/admin/cabs/cab-h', { qrCodes: ['QR-H'], plate: 'H1', label: 'Cab H' });
    expect(hips.status).toBe(201);
    expect(hips.body.qrContent).toBeUndefined();
    expect(hips.body).toMatchObject({ qrSetup: 'out_of_band', notice: expect.stringContaining('HIPS_API_URL') });
  });
});
