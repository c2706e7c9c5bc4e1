/** The kiosk's relay URL rules and certificate pins (relay-link.ts), through the config loader and the core. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKioskConfig } from '../../electron/core/config.js';
import { createKioskCore } from '../../electron/core/core.js';
import { relayChainAccepted, relayLinkSecurity, relayUrlProblem } from '../../electron/core/relay-link.js';
import { fleetCa, selfSignedCert } from '../helpers/tls.js';
import { TOKEN, TestRelay, quietLogger, tempDir, testConfig, waitForState } from './helpers.js';

function configFile(fields: Record<string, unknown>): string {
  const file = path.join(tempDir(), 'kiosk-config.json');
  writeFileSync(file, JSON.stringify({ pspUrl: 'http://127.0.0.1:9', cabId: 'CAB-7', deviceToken: TOKEN, ...fields }));
  return file;
}

describe('relay URL rules', () => {
  it('refuses plain http:// to a relay that is not on this tablet, saying what to configure', () => {
    expect(() => loadKioskConfig(configFile({ relayUrl: 'http://relay.fleet.example:8787' }))).toThrow(
      /relayUrl http:\/\/relay\.fleet\.example:8787 is plain http:\/\/ .*Set relayUrl to the relay's https:\/\/ address.*allowInsecureRelay/,
    );
    expect(() => loadKioskConfig(configFile({ relayUrl: 'http://192.168.1.20:8787' }))).toThrow(/plain http:\/\//);
    expect(relayUrlProblem({ relayUrl: 'ws://relay.fleet.example' })).toMatch(/must be https:\/\//);
  });

  it('allows loopback, https, and (with allowInsecureRelay) a private-network relay only', () => {
    for (const relayUrl of ['http://127.0.0.1:8787', 'http://localhost:8787', 'http://[::1]:8787', 'https://relay.fleet.example']) {
      expect(relayUrlProblem({ relayUrl })).toBeNull();
    }
    expect(relayUrlProblem({ relayUrl: 'http://192.168.1.20:8787', allowInsecureRelay: true })).toBeNull();
    expect(relayUrlProblem({ relayUrl: 'http://relay.local:8787', allowInsecureRelay: true })).toBeNull();
    expect(relayUrlProblem({ relayUrl: 'http://203.0.113.7:8787', allowInsecureRelay: true })).toMatch(/only allows a private-network relay/);
    expect(relayUrlProblem({ relayUrl: 'http://100.64.0.9:8787', allowInsecureRelay: true })).toMatch(/only allows a private-network relay/);
  });

  it('pins need https and valid values; a bad CA file is named', () => {
    const ca = selfSignedCert();
    expect(relayUrlProblem({ relayUrl: 'http://127.0.0.1:8787', relayCaFile: ca.certFile })).toMatch(/set relayUrl to https/);
    expect(() => loadKioskConfig(configFile({ relayUrl: 'https://relay.fleet.example', relayPublicKeyPins: ['abc'] }))).toThrow(
      /relayPublicKeyPins\.0: must be sha256\//,
    );
    expect(() => loadKioskConfig(configFile({ relayUrl: 'https://relay.fleet.example', relayCaFile: ca.keyFile }))).toThrow(
      /relayCaFile .* is not a readable PEM certificate/,
    );
    expect(loadKioskConfig(configFile({ relayUrl: 'https://relay.fleet.example', relayCaFile: ca.certFile })).relayCaFile).toBe(ca.certFile);
  });

  it('the development setting shows on the status line (snapshot connectivity.insecure); loopback does not', async () => {
    const relay = await new TestRelay().start();
    try {
      const local = createKioskCore(testConfig({ relayUrl: relay.url, pspUrl: 'http://127.0.0.1:9' }), { logger: quietLogger });
      expect(local.getState().connectivity.insecure).toBeUndefined();
      await local.start();
      await waitForState(local, (s) => s.connectivity.relay === 'online');
      expect(local.getState().connectivity.insecure).toBeUndefined();
      await local.stop();

      const lan = createKioskCore(testConfig({ relayUrl: 'http://10.255.255.1:9', allowInsecureRelay: true, pspUrl: 'http://127.0.0.1:9' }), {
        logger: quietLogger,
      });
      await lan.start();
      expect(lan.getState().connectivity.insecure).toBe(true);
      await lan.stop();
    } finally {
      await relay.stop();
    }
  });
});

describe('chain checks outside Node TLS (Electron verify proc)', () => {
  it('accepts only the pinned CA’s certificates for the right host, and pinned keys', () => {
    const ca = fleetCa();
    const relayCert = ca.issue('relay');
    const other = selfSignedCert();
    const byCa = relayLinkSecurity({ relayUrl: 'https://localhost:8443', relayCaFile: ca.certFile });
    if (!byCa.ok) throw new Error(byCa.error.message);
    expect(relayChainAccepted('localhost', [relayCert.certPem], false, byCa.value)).toBe(true);
    expect(relayChainAccepted('127.0.0.1', [relayCert.certPem], false, byCa.value)).toBe(true);
    expect(relayChainAccepted('relay.example', [relayCert.certPem], true, byCa.value)).toBe(false);
    // A publicly valid chain does not help when the fleet pins its own CA.
    expect(relayChainAccepted('localhost', [other.certPem], true, byCa.value)).toBe(false);

    const byKey = relayLinkSecurity({ relayUrl: 'https://localhost:8443', relayPublicKeyPins: [`sha256/${relayCert.spkiSha256}`] });
    if (!byKey.ok) throw new Error(byKey.error.message);
    expect(relayChainAccepted('localhost', [relayCert.certPem, ca.certPem], true, byKey.value)).toBe(true);
    expect(relayChainAccepted('localhost', [relayCert.certPem, ca.certPem], false, byKey.value)).toBe(false);
    expect(relayChainAccepted('localhost', [other.certPem], true, byKey.value)).toBe(false);
  });
});
