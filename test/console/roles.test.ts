/**
 * Roles are the server's: a viewer who calls an operator's route, or an operator an admin's, is
 * refused with the token, cab and audit log as they were, plus a refused row; what each may do
 * is done and logged. A route that declares no access rule is refused. The live fleet namespace
 * takes only a logged-in session from the console's own origin.
 */
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayApp } from '../../backend-relay/app.js';
import { consoleGuard } from '../../backend-relay/console/console-guard.js';
import { FLEET_EVENTS } from '../../backend-relay/console/operator-namespace.js';
import { OperatorStore } from '../../backend-relay/console/operator-store.js';
import { openRelayDatabase } from '../../backend-relay/store/sqlite-store.js';
import type { CabView } from '../../backend-relay/console/fleet-view.js';
import { addCab, admin, connectTablet, makeSigner, startInProcess, tempDir, waitForConnect } from '../relay/helpers.js';
import { decodeQrFromPng } from '../../scripts/lib/qr.js';
import { addOperator, ConsoleClient, whenLive } from './helpers.js';

const PASSWORD = 'a long and private passphrase';

describe('console roles and the live fleet', () => {
  let app: RelayApp;
  let url: string;
  const as: Record<'viewer' | 'operator' | 'admin', ConsoleClient> = {} as never;

  beforeAll(async () => {
    const dir = tempDir('cabpay-console-roles-');
    ({ app, url } = await startInProcess(dir, await makeSigner(dir)));
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      as[role] = new ConsoleClient(url);
      await as[role].firstLogin(`the-${role}`, await addOperator(url, `the-${role}`, role), PASSWORD);
    }
  });
  afterAll(() => app.close());

  const audit = (action: string, target?: string) =>
    app.console.operators.auditLog({ limit: 200 }).filter((e) => e.action === action && (target === undefined || e.target === target));

  it('refuses a viewer who rotates a token or disables a cab, and changes nothing', async () => {
    const token = await addCab(url, 'CAB-R1');
    const tablet = connectTablet(url, 'CAB-R1', token);
    await waitForConnect(tablet);
    const hashBefore = (await app.store.getCab('CAB-R1'))!.tokenHash;
    const rotate = await as.viewer.call('POST', '/console/api/cabs/CAB-R1/rotate-token');
    expect(rotate).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(rotate.body.error.message).toMatch(/needs the operator role; you are a viewer/);
    const disable = await as.viewer.call('POST', '/console/api/cabs/CAB-R1/enabled', { enabled: false });
    expect(disable.status).toBe(403);
    expect((await as.viewer.call('GET', '/console/api/audit')).status).toBe(403);
    const cab = (await app.store.getCab('CAB-R1'))!;
    expect(cab.tokenHash).toBe(hashBefore);
    expect(cab.enabled).toBe(true);
    expect(tablet.socket.connected).toBe(true);
    expect(audit('role_refused').filter((e) => e.actor === 'the-viewer')).toHaveLength(3);
    expect(audit('cab.rotate_token')).toHaveLength(0);
    // What a viewer may do: read the fleet, a cab's page and its QR.
    expect((await as.viewer.call('GET', '/console/api/cabs')).body.cabs[0]).toMatchObject({ cabId: 'CAB-R1', online: true });
    const page = await as.viewer.call('GET', '/console/api/cabs/CAB-R1');
    expect(page.body).toMatchObject({ cab: { cabId: 'CAB-R1' }, events: [], payments: [], refunds: [] });
    const qr = await fetch(`${url}/console/api/cabs/CAB-R1/qr/qr-CAB-R1`, { headers: { cookie: as.viewer.cookie } });
    expect(qr.headers.get('content-type')).toBe('image/png');
    tablet.close();
  });

  it('lets an operator rotate a token (shown once) and disable a cab, refuses deletion, and logs each', async () => {
    const token = await addCab(url, 'CAB-R2');
    const tablet = connectTablet(url, 'CAB-R2', token);
    await waitForConnect(tablet);
    const rotated = await as.operator.call('POST', '/console/api/cabs/CAB-R2/rotate-token');
    expect(rotated.status).toBe(200);
    expect(rotated.body.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect.poll(() => tablet.socket.connected).toBe(false);
    const disabled = await as.operator.call('POST', '/console/api/cabs/CAB-R2/enabled', { enabled: false });
    expect(disabled.body.cab).toMatchObject({ cabId: 'CAB-R2', enabled: false });
    expect((await as.operator.call('DELETE', '/console/api/cabs/CAB-R2')).status).toBe(403);
    expect((await app.store.getCab('CAB-R2'))?.enabled).toBe(false);
    expect(audit('cab.rotate_token', 'CAB-R2')).toMatchObject([{ actor: 'the-operator', outcome: 'ok' }]);
    expect(audit('cab.disable', 'CAB-R2')).toMatchObject([{ actor: 'the-operator', outcome: 'ok' }]);
    expect(audit('role_refused').filter((e) => e.actor === 'the-operator')).toHaveLength(1);
    const log = await as.operator.call('GET', '/console/api/audit?target=CAB-R2');
    expect(log.body.entries.map((e: { action: string }) => e.action)).toEqual(['cab.disable', 'cab.rotate_token']);

    expect((await as.admin.call('DELETE', '/console/api/cabs/CAB-R2')).body).toEqual({ cabId: 'CAB-R2', deleted: true });
    expect(await app.store.getCab('CAB-R2')).toBeNull();
    expect(audit('cab.delete', 'CAB-R2')).toMatchObject([{ actor: 'the-admin', outcome: 'ok' }]);
    expect((await as.admin.call('GET', '/console/api/operators')).body.operators).toHaveLength(3);
    expect((await as.operator.call('GET', '/console/api/operators')).status).toBe(403);
  });

  it("prints on each QR what a passenger must scan: the PSP's content for the code it was given for, else the code", async () => {
    await app.store.putCab(
      {
        cabId: 'CAB-QR',
        psp: 'hips',
        qrCodes: ['QR-FIRST', 'QR-SECOND'],
        plate: 'QR 1',
        label: 'QR cab',
        enabled: true,
        qrContent: 'https://pay.example/qr/QR-FIRST',
      },
      'not-a-real-token-hash',
      new Date().toISOString(),
    );
    const decode = async (code: string) => {
      const res = await fetch(`${url}/console/api/cabs/CAB-QR/qr/${code}`, { headers: { cookie: as.viewer.cookie } });
      expect(res.status).toBe(200);
      return decodeQrFromPng(Buffer.from(await res.arrayBuffer()));
    };
    expect(await decode('QR-FIRST')).toBe('https://pay.example/qr/QR-FIRST');
    expect(await decode('QR-SECOND')).toBe('QR-SECOND');
    await admin(url, 'DELETE', '/admin/cabs/CAB-QR');
  });

  it('validates ids and bodies, and says what is unknown', async () => {
    expect((await as.admin.call('GET', '/console/api/cabs/not_a_cab!')).body.error.code).toBe('invalid_cab_id');
    expect((await as.admin.call('GET', '/console/api/cabs/CAB-NONE')).status).toBe(404);
    expect((await as.admin.call('POST', '/console/api/cabs/CAB-R1/enabled', { enabled: 'no' })).body.error.code).toBe('invalid_body');
    expect((await as.admin.call('GET', '/console/api/cabs/CAB-R1/qr/someone-elses')).status).toBe(404);
    expect((await as.admin.call('GET', '/console/api/nothing-here')).status).toBe(404);
    expect((await as.viewer.call('GET', '/console/api/cabs', undefined, {})).status).toBe(200);
    expect((await new ConsoleClient(url).call('GET', '/console/api/cabs')).status).toBe(401);
  });

  it('pushes a cab going online and offline to a logged-in operator, live', async () => {
    const token = await addCab(url, 'CAB-LIVE');
    const live = as.viewer.live();
    const snapshot = await whenLive<{ cabs: CabView[] }>(live, FLEET_EVENTS.snapshot, () => true);
    expect(snapshot.cabs.find((c) => c.cabId === 'CAB-LIVE')).toMatchObject({ online: false });
    const online = whenLive<CabView>(live, FLEET_EVENTS.cab, (c) => c.cabId === 'CAB-LIVE' && c.online);
    const tablet = connectTablet(url, 'CAB-LIVE', token);
    await online;
    const offline = whenLive<CabView>(live, FLEET_EVENTS.cab, (c) => c.cabId === 'CAB-LIVE' && !c.online);
    tablet.close();
    await offline;
    const removed = whenLive<{ cabId: string }>(live, FLEET_EVENTS.removed, (r) => r.cabId === 'CAB-LIVE');
    await admin(url, 'DELETE', '/admin/cabs/CAB-LIVE');
    await as.admin.call('GET', '/console/api/cabs'); // the admin API is not watched: the sweep finds it
    await removed;
    live.close();
  });

  it('refuses the live namespace without a session, from another origin, or before the password change', async () => {
    const anonymous = new ConsoleClient(url).live();
    await expect(new Promise((_, reject) => anonymous.once('connect_error', reject))).rejects.toThrow(/log in/);
    const foreign = new ConsoleClient(url, 'https://evil.example');
    foreign.cookie = as.viewer.cookie;
    await expect(new Promise((_, reject) => foreign.live().once('connect_error', reject))).rejects.toThrow(/console page/);
    const fresh = new ConsoleClient(url);
    await fresh.login('not-changed-yet', await addOperator(url, 'not-changed-yet', 'viewer'));
    await expect(new Promise((_, reject) => fresh.live().once('connect_error', reject))).rejects.toThrow(/log in/);
  });

  it('refuses a route that declares no access rule (deny by default)', async () => {
    const dir = tempDir('cabpay-console-guard-');
    const db = openRelayDatabase(`${dir}/guard.db`);
    const server = Fastify();
    await server.register(fastifyCookie);
    server.addHook(
      'preHandler',
      consoleGuard({ operators: new OperatorStore(db, { idleMs: 60_000, maxMs: 600_000 }), publicOrigin: null, now: Date.now, refused: () => {} }),
    );
    server.get('/console/api/forgotten', async () => ({ secret: true }));
    const res = await server.inject({ method: 'GET', url: '/console/api/forgotten' });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/declares no access rule/);
    await server.close();
    db.close();
  });

  it('marks the cookie Secure and expects the public origin when the relay is reached over TLS', async () => {
    const dir = tempDir('cabpay-console-tls-');
    const tls = await startInProcess(dir, await makeSigner(dir), { publicUrl: 'https://console.example' });
    try {
      const oneTime = await addOperator(tls.url, 'tls-op', 'viewer');
      const own = await fetch(`${tls.url}/console/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: tls.url },
        body: JSON.stringify({ name: 'tls-op', password: oneTime }),
      });
      expect(own.status).toBe(403); // the relay's address is not the console's public origin
      const res = await fetch(`${tls.url}/console/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://console.example' },
        body: JSON.stringify({ name: 'tls-op', password: oneTime }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie().find((c) => c.startsWith('cabpay_console='))).toMatch(/; Secure/);
    } finally {
      await tls.app.close();
    }
  });
});
