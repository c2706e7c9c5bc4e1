/**
 * Only releases the fleet signed install. A real DebUpdater downloads from the relay over TLS
 * (a self-signed certificate the tablet pins) and electron/updater.ts with the kiosk's release
 * guard decides: a signed release installs; one altered by a byte (feed rewritten to match,
 * as a relay taken over could), one signed by another key and one without a signature are
 * refused, and each refusal reaches GET /admin/cabs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { relayLinkSecurity } from '../../electron/core/relay-link.js';
import { relayReleaseGuard } from '../../electron/release-guard.js';
import { relayUpdateFeed, startUpdater } from '../../electron/updater.js';
import { SIGNATURE_FILE, signRotation } from '../../protocol/release-signature.js';
import { selfSignedCert } from '../helpers/tls.js';
import { ADMIN_TOKEN } from '../relay/helpers.js';
import { MemoryCore } from '../shell/helpers/memory-core.js';
import { TEST_RELEASE_KEYS, makeReleaseKeys, sha512, signFolder, startRelayWithUpdates, tabletUpdater, writeRelease } from './fixtures.js';

describe('signed releases through electron-updater over pinned TLS', () => {
  let relay: Awaited<ReturnType<typeof startRelayWithUpdates>>;
  const cert = selfSignedCert('relay-updates');
  const tokens = new Map<string, string>();
  const security = relayLinkSecurity({ relayUrl: 'https://127.0.0.1', relayCaFile: cert.certFile });
  if (!security.ok) throw new Error(security.error.message);
  const tls = security.value.tls;
  const stops: (() => void)[] = [];

  const adminCall = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await relay.app.fastify.inject({
      method,
      url,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      ...(payload ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };
  const cabRow = async (cabId: string) => ((await adminCall('GET', '/admin/cabs')).body.cabs as any[]).find((c) => c.cabId === cabId);

  /** A tablet on 1.0.0 pinned to `version`, running the kiosk updater; resolves its installs. */
  function runTablet(cabId: string) {
    const { updater } = tabletUpdater(null, '', '1.0.0', undefined, tls);
    const installs: unknown[][] = [];
    (updater as any).quitAndInstall = (...args: unknown[]) => installs.push(args);
    const feed = relayUpdateFeed({ relayUrl: relay.url, cabId, deviceToken: tokens.get(cabId)! });
    const downloaded = new Promise<{ version: string }>((resolve) => updater.once('update-downloaded', resolve));
    stops.push(
      startUpdater({
        updater: updater as any,
        core: new MemoryCore(),
        log: pino({ level: 'silent' }),
        feed,
        guard: relayReleaseGuard({ trustedKeyPem: TEST_RELEASE_KEYS.publicPem, feed, tls, log: pino({ level: 'silent' }) }),
        jitterMs: 0,
        settleMs: 20,
      }),
    );
    return { installs, downloaded };
  }

  async function addPinnedCab(cabId: string, version: string) {
    const res = await adminCall('PUT', `/admin/cabs/${cabId}`, { qrCodes: [`qr-${cabId}`], plate: 'P 1', label: cabId });
    expect(res.status).toBe(201);
    tokens.set(cabId, res.body.deviceToken);
    expect((await adminCall('PUT', `/admin/cabs/${cabId}/pin`, { version })).status).toBe(200);
  }

  beforeAll(async () => {
    process.env.TEST_UPDATER_ARCH = 'x64';
    relay = await startRelayWithUpdates({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    expect(relay.url).toMatch(/^https:/);
    const other = makeReleaseKeys();
    const next = makeReleaseKeys();
    await writeRelease(relay.updatesDir, '2.0.0');
    await writeRelease(relay.updatesDir, '2.1.0');
    await writeRelease(relay.updatesDir, '2.2.0', { signWith: other });
    await writeRelease(relay.updatesDir, '2.3.0');
    await writeRelease(relay.updatesDir, '2.4.0', { signWith: null });
    // Signed by the next key, which the built-in key vouched for.
    await signFolder(path.join(relay.updatesDir, '2.4.0'), next, [await signRotation(TEST_RELEASE_KEYS, next.publicKey)]);
    for (const version of ['2.0.0', '2.1.0', '2.2.0', '2.3.0', '2.4.0']) {
      expect((await adminCall('POST', '/admin/releases', { version })).status, version).toBe(201);
    }

    // A relay taken over: one byte of 2.1.0's packages changed and its feed rewritten to match...
    const folder = path.join(relay.updatesDir, '2.1.0');
    let feed = readFileSync(path.join(folder, 'latest-linux.yml'), 'utf8');
    for (const name of ['cabpay-2.1.0-amd64.deb', 'cabpay-2.1.0-x86_64.AppImage']) {
      const bytes = readFileSync(path.join(folder, name));
      const before = sha512(bytes);
      bytes[bytes.length - 1]! ^= 0x01;
      writeFileSync(path.join(folder, name), bytes);
      feed = feed.replaceAll(before, sha512(bytes));
    }
    writeFileSync(path.join(folder, 'latest-linux.yml'), feed);
    // ...and 2.3.0's signature dropped from its records.
    const db = new Database(relay.config.dbPath);
    db.prepare(`DELETE FROM release_files WHERE version = '2.3.0' AND name = ?`).run(SIGNATURE_FILE);
    db.close();

    await addPinnedCab('cab-good', '2.0.0');
    await addPinnedCab('cab-altered', '2.1.0');
    await addPinnedCab('cab-other-key', '2.2.0');
    await addPinnedCab('cab-unsigned', '2.3.0');
    await addPinnedCab('cab-rotated', '2.4.0');
  });
  afterAll(async () => {
    for (const stop of stops) stop();
    await relay?.app.close();
  });

  it('installs a release signed with the built-in key, downloaded over the pinned TLS link', async () => {
    const tablet = runTablet('cab-good');
    expect((await tablet.downloaded).version).toBe('2.0.0');
    await vi.waitFor(() => expect(tablet.installs).toEqual([[true, true]]), { timeout: 10_000 });
    expect((await cabRow('cab-good')).updateRefusal).toBeNull();
  });

  it('installs a release signed by a rotated key when the built-in key signed the rotation', async () => {
    const tablet = runTablet('cab-rotated');
    expect((await tablet.downloaded).version).toBe('2.4.0');
    await vi.waitFor(() => expect(tablet.installs).toEqual([[true, true]]), { timeout: 10_000 });
  });

  for (const [cabId, version, code, message] of [
    ['cab-altered', '2.1.0', 'altered', /is not one the fleet signed for 2\.1\.0: it was altered or replaced/],
    ['cab-other-key', '2.2.0', 'bad_signature', /release 2\.2\.0 is not signed by the fleet release key/],
    ['cab-unsigned', '2.3.0', 'unsigned', /release 2\.3\.0 has no cabpay-release\.sig/],
  ] as const) {
    it(`refuses and reports ${code}: ${cabId} never installs ${version}`, async () => {
      const tablet = runTablet(cabId);
      // electron-updater itself accepts the download: its feed matches the bytes.
      expect((await tablet.downloaded).version).toBe(version);
      await vi.waitFor(async () => expect((await cabRow(cabId)).updateRefusal).toMatchObject({ version, code }), { timeout: 10_000 });
      expect((await cabRow(cabId)).updateRefusal.message).toMatch(message);
      expect(tablet.installs).toEqual([]);
    });
  }

  it('refuses a rotation the built-in key did not sign', async () => {
    const stranger = makeReleaseKeys();
    const next = makeReleaseKeys();
    const { verifyRelease, importReleasePublicKey, signRelease } = await import('../../protocol/release-signature.js');
    const forged = await signRelease({ version: '9.0.0', files: [{ name: 'x.deb', sha512: 'abc', size: 1 }] }, next, [
      await signRotation(stranger, next.publicKey),
    ]);
    const verdict = await verifyRelease(JSON.stringify(forged), await importReleasePublicKey(TEST_RELEASE_KEYS.publicPem), '9.0.0');
    expect(verdict).toMatchObject({ ok: false, error: { code: 'bad_rotation' } });
  });
});
