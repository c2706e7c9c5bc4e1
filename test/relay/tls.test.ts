/**
 * TLS on the tablet link: the relay serves HTTPS from RELAY_TLS_CERT_FILE/KEY_FILE, reloads a
 * replaced certificate without dropping tablets, sends HSTS; the kiosk's relay client connects
 * only to a relay whose certificate it pins (fleet CA or public key).
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import { loadRelayConfig } from '../../backend-relay/config.js';
import { createLogger } from '../../backend-relay/logger.js';
import { RelayClient, type RelayConnectivity } from '../../electron/core/relay-client.js';
import { relayLinkSecurity, type RelayLinkConfig } from '../../electron/core/relay-link.js';
import { fleetCa, selfSignedCert, type CertFiles } from '../helpers/tls.js';
import { ADMIN_TOKEN, exited, makeSigner, relayConfig, spawnRelay, tempDir, until } from './helpers.js';

const CAB = 'cab-tls';

interface Started {
  app: RelayApp;
  url: string;
  token: string;
  logs: { msg: string; reason?: string }[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function relayServing(cert: CertFiles, over: { copy?: boolean } = {}): Promise<Started & { certFile: string; keyFile: string }> {
  const dir = tempDir('cabpay-tls-relay-');
  const signer = await makeSigner(dir);
  // The relay reads its own copies, so a test can replace them like a renewer would.
  const certFile = over.copy === false ? cert.certFile : path.join(dir, 'relay.crt');
  const keyFile = over.copy === false ? cert.keyFile : path.join(dir, 'relay.key');
  if (over.copy !== false) {
    copyFileSync(cert.certFile, certFile);
    copyFileSync(cert.keyFile, keyFile);
  }
  const logs: Started['logs'] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const app = await buildRelayApp(relayConfig(dir, signer, { tls: { certFile, keyFile } }), { logger });
  const url = await app.listen();
  cleanups.push(() => app.close());
  const res = await app.fastify.inject({
    method: 'PUT',
    url: `/admin/cabs/${CAB}`,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { qrCodes: [`qr-${CAB}`], plate: 'TLS 1', label: 'TLS cab' },
  });
  expect(res.statusCode).toBe(201);
  return { app, url, token: res.json().deviceToken, logs, certFile, keyFile };
}

/** The kiosk's own relay client with the TLS options its config gives. */
function tablet(relay: { url: string; token: string }, link: Omit<RelayLinkConfig, 'relayUrl'>) {
  const security = relayLinkSecurity({ relayUrl: relay.url, ...link });
  if (!security.ok) throw new Error(security.error.message);
  const states: { state: RelayConnectivity; detail?: string }[] = [];
  const client = new RelayClient({
    relayUrl: relay.url,
    tls: security.value.tls,
    cabId: CAB,
    deviceToken: relay.token,
    lastSeq: () => 0,
    onEvent: () => null,
    onLogStart: () => ({ ok: true, value: { lastSeq: 0 } }),
    onConnectivity: (state, detail) => void states.push({ state, detail }),
    random: () => 0.5,
    logger: pino({ level: 'silent' }),
  });
  client.start();
  cleanups.push(() => client.stop());
  return { client, states };
}

/** The certificate a new TLS connection to the relay is given. */
function servedFingerprint(url: string, ca: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('relay over HTTPS', () => {
  it('serves https with HSTS on every response and says tlsActive', async () => {
    const cert = selfSignedCert();
    const relay = await relayServing(cert);
    expect(relay.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(relay.app.tlsActive).toBe(true);
    const res = await relay.app.fastify.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    const missing = await relay.app.fastify.inject({ method: 'GET', url: '/no-such-page' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('a plain-HTTP relay sends no HSTS and is not tlsActive; one behind a TLS load balancer is', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const plain = await buildRelayApp(relayConfig(dir, signer), { logger: createLogger('silent') });
    cleanups.push(() => plain.close());
    expect(plain.tlsActive).toBe(false);
    expect((await plain.fastify.inject({ method: 'GET', url: '/healthz' })).headers['strict-transport-security']).toBeUndefined();
    const dir2 = tempDir();
    const behindLb = await buildRelayApp(relayConfig(dir2, signer, { publicUrl: 'https://relay.fleet.example' }), { logger: createLogger('silent') });
    cleanups.push(() => behindLb.close());
    expect(behindLb.tlsActive).toBe(true);
    expect((await behindLb.fastify.inject({ method: 'GET', url: '/healthz' })).headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('the environment needs both files, readable and matching', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const a = selfSignedCert('a');
    const b = selfSignedCert('b');
    const env = { RELAY_ADMIN_TOKEN: ADMIN_TOKEN, HIPS_PUBLIC_KEY_FILE: signer.pemFile, RELAY_DB: path.join(dir, 'r.db') };
    expect(() => loadRelayConfig({ ...env, RELAY_TLS_CERT_FILE: a.certFile })).toThrow(/RELAY_TLS_KEY_FILE is missing/);
    expect(() => loadRelayConfig({ ...env, RELAY_TLS_CERT_FILE: a.certFile, RELAY_TLS_KEY_FILE: b.keyFile })).toThrow(/not the private key of the certificate/);
    expect(() => loadRelayConfig({ ...env, RELAY_TLS_CERT_FILE: path.join(dir, 'nope.crt'), RELAY_TLS_KEY_FILE: a.keyFile })).toThrow(
      /RELAY_TLS_CERT_FILE .* cannot be read/,
    );
    expect(loadRelayConfig({ ...env, RELAY_TLS_CERT_FILE: a.certFile, RELAY_TLS_KEY_FILE: a.keyFile }).tls).toEqual({
      certFile: a.certFile,
      keyFile: a.keyFile,
    });
  });
});

describe('the relay process', () => {
  it('serves https from RELAY_TLS_CERT_FILE/KEY_FILE and reloads them on SIGHUP', async () => {
    const ca = fleetCa();
    const first = ca.issue('first');
    const second = ca.issue('second');
    const dir = tempDir('cabpay-tls-process-');
    const signer = await makeSigner(dir);
    const certFile = path.join(dir, 'relay.crt');
    const keyFile = path.join(dir, 'relay.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    const relay = await spawnRelay({
      RELAY_DB: path.join(dir, 'relay.db'),
      HIPS_PUBLIC_KEY_FILE: signer.pemFile,
      RELAY_TLS_CERT_FILE: certFile,
      RELAY_TLS_KEY_FILE: keyFile,
    });
    try {
      expect(relay.url).toMatch(/^https:/);
      expect(await servedFingerprint(relay.url, ca.certPem)).toBe(first.fingerprint256);
      // Written into another folder and renamed in, then a SIGHUP (as after a manual install).
      const staging = tempDir();
      writeFileSync(path.join(staging, 'c'), second.certPem);
      writeFileSync(path.join(staging, 'k'), second.keyPem);
      copyFileSync(path.join(staging, 'k'), keyFile);
      copyFileSync(path.join(staging, 'c'), certFile);
      relay.child.kill('SIGHUP');
      await until(async () => (await servedFingerprint(relay.url, ca.certPem)) === second.fingerprint256, 'the new certificate after SIGHUP');
      await until(() => relay.output().includes('"reason":"SIGHUP"'), 'the SIGHUP reload to be logged');
      expect(relay.child.exitCode).toBeNull();
    } finally {
      relay.child.kill('SIGTERM');
      expect(await exited(relay.child)).toBe(0);
    }
  });
});

describe('the tablet pins its relay', () => {
  it('connects to a self-signed relay whose certificate it pins as its CA, and refuses one it does not pin', async () => {
    const pinned = selfSignedCert('pinned');
    const other = selfSignedCert('other');
    const relay = await relayServing(pinned);
    const good = tablet(relay, { relayCaFile: pinned.certFile });
    await until(() => good.client.connected, 'the pinned tablet to connect');

    const refused = tablet(relay, { relayCaFile: other.certFile });
    await until(() => refused.states.some((s) => s.state === 'offline'), 'the unpinned tablet to give up a try');
    expect(refused.client.connected).toBe(false);
    // Without any pin the platform's CAs do not know a self-signed relay either.
    const unpinned = tablet(relay, {});
    await until(() => unpinned.states.some((s) => s.state === 'offline'), 'the tablet without a pin to give up a try');
    expect(unpinned.client.connected).toBe(false);
    expect(good.client.connected).toBe(true);
  });

  it('a public-key pin accepts the pinned relay key and refuses another certificate from the same CA', async () => {
    const ca = fleetCa();
    const relayCert = ca.issue('relay');
    const imposter = ca.issue('imposter');
    const relay = await relayServing(relayCert);
    const fake = await relayServing(imposter);
    const link = { relayCaFile: ca.certFile, relayPublicKeyPins: [`sha256/${relayCert.spkiSha256}`] };
    const good = tablet(relay, link);
    await until(() => good.client.connected, 'the tablet to connect to the pinned key');
    const refused = tablet(fake, link);
    await until(() => refused.states.some((s) => s.state === 'offline'), 'the tablet to refuse the imposter');
    expect(refused.client.connected).toBe(false);
    // Pinning the CA's key accepts every relay certificate it issues.
    const byCa = tablet(fake, { relayCaFile: ca.certFile, relayPublicKeyPins: [`sha256/${ca.spkiSha256}`] });
    await until(() => byCa.client.connected, 'the tablet pinning the CA key to connect');
  });

  it('a replaced certificate is served to new connections while a live tablet socket stays up; a bad one is refused', async () => {
    const ca = fleetCa();
    const first = ca.issue('first');
    const second = ca.issue('second');
    const relay = await relayServing(first);
    const live = tablet(relay, { relayCaFile: ca.certFile });
    await until(() => live.client.connected, 'the tablet to connect');
    const socketId = (live.client as unknown as { socket: { id: string } }).socket.id;
    expect(await servedFingerprint(relay.url, ca.certPem)).toBe(first.fingerprint256);

    // A renewer writes the new pair in place: the watcher reloads it.
    writeFileSync(relay.keyFile, second.keyPem);
    writeFileSync(relay.certFile, second.certPem);
    await until(async () => (await servedFingerprint(relay.url, ca.certPem)) === second.fingerprint256, 'the new certificate to be served');
    expect(live.client.connected).toBe(true);
    expect((live.client as unknown as { socket: { id: string } }).socket.id).toBe(socketId);
    expect(live.states.filter((s) => s.state === 'offline')).toEqual([]);

    // A key that does not match: logged, and the previous certificate stays in use (SIGHUP path).
    writeFileSync(relay.keyFile, first.keyPem);
    const result = relay.app.reloadTls();
    expect(result?.ok).toBe(false);
    expect(relay.logs.some((l) => l.msg === 'TLS certificate not reloaded; the previous one stays in use')).toBe(true);
    expect(await servedFingerprint(relay.url, ca.certPem)).toBe(second.fingerprint256);
    writeFileSync(relay.keyFile, second.keyPem);
    expect(relay.app.reloadTls()?.ok).toBe(true);
    expect(live.client.connected).toBe(true);
  });
});
