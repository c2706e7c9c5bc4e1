/** electron-updater's Chromium session gets the relay's pins through a certificate verify proc. */
import { describe, expect, it } from 'vitest';
import { relayLinkSecurity } from '../../electron/core/relay-link.js';
import { pinUpdaterSession, type VerifyProcSession } from '../../electron/updater-tls.js';
import { fleetCa, selfSignedCert } from '../helpers/tls.js';

type Proc = Parameters<VerifyProcSession['setCertificateVerifyProc']>[0];

describe('pinUpdaterSession', () => {
  it('accepts the relay only with a certificate from the pinned CA, and leaves other hosts to Chromium', () => {
    const ca = fleetCa();
    const relayCert = ca.issue('relay');
    const stranger = selfSignedCert();
    const security = relayLinkSecurity({ relayUrl: 'https://localhost:8443', relayCaFile: ca.certFile });
    if (!security.ok) throw new Error(security.error.message);
    let proc: Proc = null;
    const refused: string[] = [];
    pinUpdaterSession({ setCertificateVerifyProc: (p) => void (proc = p) }, 'https://localhost:8443', security.value, (host) => refused.push(host));
    const verdict = (hostname: string, data: string, verificationResult: string) =>
      new Promise<number>((resolve) => proc!({ hostname, certificate: { data, issuerCert: null }, verificationResult }, resolve));

    return (async () => {
      expect(await verdict('localhost', relayCert.certPem, 'net::ERR_CERT_AUTHORITY_INVALID')).toBe(0);
      expect(await verdict('localhost', stranger.certPem, 'net::OK')).toBe(-2);
      expect(refused).toEqual(['localhost']);
      expect(await verdict('cdn.example', stranger.certPem, 'net::OK')).toBe(-3);
    })();
  });
});
