/**
 * electron-updater downloads through Chromium's network stack (session "electron-updater"),
 * which does not see Node's `ca` option: the relay's pins are applied there with a
 * certificate verify proc, with the same rules as the relay socket (core/relay-link.ts).
 */
import { relayChainAccepted, type RelayLinkSecurity } from './core/relay-link.js';

/** electron-updater's own session partition (ElectronHttpExecutor's NET_SESSION_NAME). */
export const UPDATER_SESSION_PARTITION = 'electron-updater';

interface CertificateLike {
  data: string;
  issuerCert?: CertificateLike | null;
}

export interface VerifyProcSession {
  setCertificateVerifyProc(
    proc:
      | ((request: { hostname: string; certificate: CertificateLike; verificationResult: string }, callback: (verificationResult: number) => void) => void)
      | null,
  ): void;
}

/** Chromium's verdicts: 0 accept, -2 refuse, -3 use Chromium's own verification. */
const ACCEPT = 0;
const REFUSE = -2;
const CHROMIUM_DECIDES = -3;

export function pinUpdaterSession(session: VerifyProcSession, relayUrl: string, security: RelayLinkSecurity, onRefused: (hostname: string) => void): void {
  const relayHost = new URL(relayUrl).hostname.replace(/^\[|\]$/g, '');
  session.setCertificateVerifyProc((request, callback) => {
    if (request.hostname.replace(/^\[|\]$/g, '') !== relayHost) return callback(CHROMIUM_DECIDES);
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let c: CertificateLike | null | undefined = request.certificate; c && !seen.has(c.data); c = c.issuerCert) {
      seen.add(c.data);
      chain.push(c.data);
    }
    const accepted = relayChainAccepted(relayHost, chain, request.verificationResult === 'net::OK', security);
    if (!accepted) onRefused(request.hostname);
    callback(accepted ? ACCEPT : REFUSE);
  });
}
