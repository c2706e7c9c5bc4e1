/**
 * How the tablet may reach its relay. A device token and every payment event cross the cab's
 * mobile network, so outside loopback the relay must be https:// (and so wss://). Plain HTTP is
 * allowed only by an explicit development setting, only to a private-network host, and the
 * driver's status line says so. A fleet may pin its own CA or the relay's public key.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity as standardServerIdentity, type PeerCertificate } from 'node:tls';
import { fail, ok, type Result } from '../../protocol/result.js';

/** The relay-link fields of the kiosk config (config.ts). */
export interface RelayLinkConfig {
  relayUrl: string;
  /** Development only: plain http:// to a relay on a private network. */
  allowInsecureRelay?: boolean;
  /** PEM file of the fleet's own CA: the relay's certificate must chain to it (public CAs are not trusted). */
  relayCaFile?: string;
  /** `sha256/<base64>` of a SubjectPublicKeyInfo: the relay's chain must contain one of these keys. */
  relayPublicKeyPins?: string[];
}

/** The TLS options every relay link uses: the socket (ws), update downloads and reports. */
export interface RelayTlsOptions {
  ca?: string;
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

export interface RelayLinkSecurity {
  /** True when the link is plain HTTP outside loopback (the development setting). */
  insecure: boolean;
  tls: RelayTlsOptions;
  /** The pinned CA, parsed, for checks outside Node's TLS (Electron's network stack). */
  caCert: X509Certificate | null;
  pins: Set<string>;
}

export const PUBLIC_KEY_PIN = /^sha256\/[A-Za-z0-9+/]{43}=$/;

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Private addresses and local names: where the development setting may use plain HTTP. */
export function isPrivateNetworkHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopbackHost(host)) return true;
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (isIP(host) === 6) return /^f[cd]/.test(host) || /^fe[89ab]/.test(host);
  return !host.includes('.') || /\.(local|lan|internal|home\.arpa)$/.test(host);
}

/** The URL rules, as one message that says what to configure; null when the URL is acceptable. */
export function relayUrlProblem(config: RelayLinkConfig): string | null {
  let url: URL;
  try {
    url = new URL(config.relayUrl);
  } catch {
    return `relayUrl ${config.relayUrl} is not a URL: set it to the relay's https:// address`;
  }
  const pinned = config.relayCaFile !== undefined || (config.relayPublicKeyPins?.length ?? 0) > 0;
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return `relayUrl must be https:// (the socket then uses wss://), not ${url.protocol}//`;
  if (pinned) return 'relayCaFile and relayPublicKeyPins pin a TLS certificate: set relayUrl to https://';
  if (isLoopbackHost(url.hostname)) return null;
  if (!config.allowInsecureRelay) {
    return (
      `relayUrl ${url.origin} is plain http:// to a host that is not this tablet: the device token and payment events would cross ` +
      "the network unencrypted. Set relayUrl to the relay's https:// address (see docs/deploy.md); for development on a private " +
      'network only, set "allowInsecureRelay": true'
    );
  }
  if (!isPrivateNetworkHost(url.hostname)) {
    return `allowInsecureRelay only allows a private-network relay (10/8, 172.16/12, 192.168/16, *.local); ${url.hostname} is not one: use https://`;
  }
  return null;
}

/** What the status line warns about: the development setting in use. */
export function isPlainHttpOffLoopback(relayUrl: string): boolean {
  try {
    const url = new URL(relayUrl);
    return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

export function spkiSha256(publicKeyDer: Buffer): string {
  return `sha256/${createHash('sha256').update(publicKeyDer).digest('base64')}`;
}

/** Validates the config and builds the TLS options; every error says what to configure. */
export function relayLinkSecurity(config: RelayLinkConfig): Result<RelayLinkSecurity> {
  const problem = relayUrlProblem(config);
  if (problem) return fail('insecure_relay_url', problem);
  const url = new URL(config.relayUrl);
  let caPem: string | undefined;
  let caCert: X509Certificate | null = null;
  if (config.relayCaFile !== undefined) {
    try {
      caPem = readFileSync(config.relayCaFile, 'utf8');
      caCert = new X509Certificate(caPem);
    } catch (err) {
      return fail(
        'relay_ca_invalid',
        `relayCaFile ${config.relayCaFile} is not a readable PEM certificate (${(err as Error).message}): point it at the fleet CA's certificate`,
      );
    }
  }
  const bad = (config.relayPublicKeyPins ?? []).filter((p) => !PUBLIC_KEY_PIN.test(p));
  if (bad.length > 0)
    return fail(
      'relay_pin_invalid',
      `relayPublicKeyPins ${bad.join(', ')}: each must be sha256/<base64 of the SubjectPublicKeyInfo's SHA-256> (docs/deploy.md shows the openssl command)`,
    );
  const pins = new Set(config.relayPublicKeyPins ?? []);
  const tls: RelayTlsOptions = {};
  if (caPem !== undefined) tls.ca = caPem;
  if (pins.size > 0) tls.checkServerIdentity = (host, cert) => standardServerIdentity(host, cert) ?? pinnedKeyMissing(chainKeys(cert), pins);
  return ok({ insecure: isPlainHttpOffLoopback(url.href), tls, caCert, pins });
}

/** The SPKI pins of a peer certificate and its issuers, as Node reports them. */
function chainKeys(cert: PeerCertificate): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  let current: PeerCertificate | undefined = cert;
  while (current && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    // `pubkey` is the bare key for EC certificates; the pin is over the whole SubjectPublicKeyInfo.
    if (current.raw) keys.push(spkiSha256(new X509Certificate(current.raw).publicKey.export({ type: 'spki', format: 'der' })));
    current = (current as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return keys;
}

function pinnedKeyMissing(keys: string[], pins: Set<string>): Error | undefined {
  if (keys.some((k) => pins.has(k))) return undefined;
  const err = new Error(
    `the relay's certificate chain has none of the pinned public keys (it has ${keys.join(', ')}); update relayPublicKeyPins or the relay's certificate`,
  );
  (err as Error & { code: string }).code = 'ERR_RELAY_KEY_NOT_PINNED';
  return err;
}

/**
 * The same rules for a chain checked outside Node's TLS (Electron's certificate verify proc):
 * `chainPem` is leaf first; `publicChainOk` is the platform's own verdict (public CAs).
 */
export function relayChainAccepted(hostname: string, chainPem: string[], publicChainOk: boolean, security: RelayLinkSecurity): boolean {
  let chain: X509Certificate[];
  try {
    chain = chainPem.map((pem) => new X509Certificate(pem));
  } catch {
    return false;
  }
  const leaf = chain[0];
  if (!leaf) return false;
  const host = hostname.replace(/^\[|\]$/g, '');
  const nameOk = isIP(host) ? leaf.checkIP(host) !== undefined : leaf.checkHost(host) !== undefined;
  if (!nameOk) return false;
  let trusted = publicChainOk;
  const ca = security.caCert;
  if (ca) {
    const now = Date.now();
    const current = (c: X509Certificate) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
    // Only the fleet CA counts: a leaf it signed directly, or the CA itself as a self-signed leaf.
    trusted = current(leaf) && current(ca) && (leaf.fingerprint256 === ca.fingerprint256 || (leaf.checkIssued(ca) && leaf.verify(ca.publicKey)));
  }
  if (!trusted) return false;
  if (security.pins.size === 0) return true;
  return chain.some((c) => security.pins.has(spkiSha256(c.publicKey.export({ type: 'spki', format: 'der' }))));
}
