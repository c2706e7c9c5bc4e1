/**
 * Only releases the fleet signed are installed. electron-updater has already checked the
 * downloaded file against the SHA-512 in latest*.yml, but the relay serves that file too; so
 * before installing, the kiosk fetches the version's cabpay-release.sig, verifies it against
 * the key built into the app (through any rotations), and checks that the downloaded bytes are
 * a file the fleet signed for that version. A refusal is logged and reported to the relay.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Logger } from 'pino';
import type { UpdateRefusalReport } from '../protocol/relay-protocol.js';
import { fileInManifest, importReleasePublicKey, signatureFeedName, verifyRelease, type Verified } from '../protocol/release-signature.js';
import type { RelayTlsOptions } from './core/relay-link.js';
import { relayRequest } from './relay-http.js';
import type { RelayFeed } from './updater.js';

export interface DownloadedRelease {
  version: string;
  /** The file electron-updater downloaded and would install. */
  downloadedFile: string;
}

export interface ReleaseGuard {
  /** Ok with the signed file's name, or the reason to refuse it. */
  verify(release: DownloadedRelease): Promise<Verified<string> | { ok: false; error: { code: 'unverifiable'; message: string } }>;
  /** Best effort: the relay keeps each cab's last refusal (GET /admin/cabs). */
  reportRefusal(report: UpdateRefusalReport): Promise<void>;
}

function sha512AndSize(file: string): Promise<{ sha512: string; size: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512');
    let size = 0;
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => {
        size += chunk.length;
        hash.update(chunk);
      })
      .on('end', () => resolve({ sha512: hash.digest('base64'), size }));
  });
}

export function relayReleaseGuard(opts: {
  /** SPKI PEM of the fleet release key built into the app; null refuses every update. */
  trustedKeyPem: string | null;
  /** This cab's feed: the signature is fetched beside it, with its device token. */
  feed: Pick<RelayFeed, 'url'> & { requestHeaders: Record<string, string> };
  tls?: RelayTlsOptions;
  log: Logger;
}): ReleaseGuard {
  const trusted = opts.trustedKeyPem === null ? null : importReleasePublicKey(opts.trustedKeyPem);
  trusted?.catch(() => {}); // reported on first use
  const refusalsUrl = new URL('refusals', opts.feed.url).href;
  return {
    async verify(release) {
      if (trusted === null) {
        return {
          ok: false,
          error: { code: 'unverifiable', message: 'this kiosk was built without a fleet release key (build/release-public-key.ts), so it installs no update' },
        };
      }
      let key;
      try {
        key = await trusted;
      } catch (err) {
        return {
          ok: false,
          error: { code: 'unverifiable', message: `the release key built into this kiosk is not an Ed25519 public key (${(err as Error).message})` },
        };
      }
      const url = new URL(signatureFeedName(release.version), opts.feed.url).href;
      let text: string | null;
      try {
        const res = await relayRequest(url, { headers: opts.feed.requestHeaders, tls: opts.tls });
        if (res.status === 404) text = null;
        else if (res.status !== 200)
          return {
            ok: false,
            error: {
              code: 'unverifiable',
              message: `the relay answered ${res.status} for the signature of ${release.version}; trying again at the next check`,
            },
          };
        else text = res.body.toString('utf8');
      } catch (err) {
        return {
          ok: false,
          error: {
            code: 'unverifiable',
            message: `cannot fetch the signature of ${release.version} (${(err as Error).message}); trying again at the next check`,
          },
        };
      }
      const manifest = await verifyRelease(text, key, release.version);
      if (!manifest.ok) return manifest;
      const { sha512, size } = await sha512AndSize(release.downloadedFile);
      return fileInManifest(manifest.value, sha512, size);
    },
    async reportRefusal(report) {
      try {
        const res = await relayRequest(refusalsUrl, { method: 'POST', headers: opts.feed.requestHeaders, json: report, tls: opts.tls });
        if (res.status !== 204)
          opts.log.warn({ status: res.status, body: res.body.toString('utf8').slice(0, 300) }, 'the relay did not take the update refusal report');
      } catch (err) {
        opts.log.warn({ err }, 'cannot report the update refusal to the relay');
      }
    },
  };
}
