/**
 * The update service behind the feed and the admin API: publishes release folders, changes
 * the rollout, and answers which file a cab gets. Errors carry a code and a message that says
 * what to do; routes map them to HTTP statuses.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { receiveFile, UploadTooLarge } from './upload.js';
import { type ScannedRelease, ReleaseFolderError, scanReleaseFolder, CHANNEL_FILE } from './release-folder.js';
import { assignRelease, planRollout, rolloutBucket, type Assignment, type RolloutRequest, type RolloutState } from './rollout.js';
import type { ReleaseRecord, RolloutStore, UpdateRefusal } from './rollout-store.js';
import { SIGNATURE_FEED_NAME, SIGNATURE_FILE } from '../../protocol/release-signature.js';

export type UpdateErrorCode =
  | 'updates_disabled'
  | 'invalid_release'
  | 'already_published'
  | 'unknown_release'
  | 'unknown_cab'
  | 'no_rollout'
  | 'downgrade_refused'
  | 'no_release_assigned'
  | 'not_in_release'
  | 'release_changed'
  | 'upload_too_large';

export class UpdateError extends Error {
  override name = 'UpdateError';
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ServedFile {
  path: string;
  size: number;
  version: string;
  /** A latest*.yml feed (never cached) rather than a versioned artifact. */
  isFeed: boolean;
}

export interface RolloutStatus {
  rollout: RolloutState | null;
  releases: ReleaseRecord[];
  pins: { cabId: string; version: string; pinnedAt: string }[];
}

/** Where one cab's updates stand, for the fleet list. */
type CabUpdateTarget = {
  targetVersion: string | null;
  targetReason: string | null;
  bucket: number;
  lastUpdateCheckAt: string | null;
  updateRefusal: Omit<UpdateRefusal, 'cabId'> | null;
};

export class FleetUpdates {
  constructor(
    private readonly store: RolloutStore,
    /** Null when RELAY_UPDATES_DIR is not set: the feed and release commands refuse. */
    private readonly updatesDir: string | null,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get enabled(): boolean {
    return this.updatesDir !== null;
  }

  private dir(): string {
    if (this.updatesDir === null)
      throw new UpdateError('updates_disabled', 'this relay serves no updates: set RELAY_UPDATES_DIR to the folder of published releases and restart it');
    return this.updatesDir;
  }

  /** Registers a folder already copied under RELAY_UPDATES_DIR (by default named after the version). */
  async publish(input: { version?: string; dir?: string }): Promise<ScannedRelease> {
    const root = this.dir();
    const folder = input.dir ?? input.version;
    if (folder === undefined) throw new UpdateError('invalid_release', 'give the version or the folder (dir) of the release to publish');
    if (input.version !== undefined && (await this.store.getRelease(input.version))) {
      throw new UpdateError('already_published', `version ${input.version} is already published; releases are immutable, build and publish a new version`);
    }
    let scanned: ScannedRelease;
    try {
      scanned = await scanReleaseFolder(root, folder, input.version);
    } catch (err) {
      if (err instanceof ReleaseFolderError) throw new UpdateError('invalid_release', err.message);
      throw err;
    }
    if (!(await this.store.publishRelease(scanned, this.now().toISOString()))) {
      throw new UpdateError(
        'already_published',
        `version ${scanned.version} or folder ${scanned.dir} is already published; releases are immutable, build and publish a new version`,
      );
    }
    return scanned;
  }

  /** Stores an uploaded file in the folder of a version not yet published (then publish it). */
  async upload(version: string, name: string, body: Readable) {
    const root = this.dir();
    const published = (await this.store.listReleases()).some((r) => r.version === version || r.dir === version);
    if (published) {
      throw new UpdateError(
        'already_published',
        `version ${version} (or its folder) is already published; releases are immutable, build and publish a new version`,
      );
    }
    try {
      return await receiveFile(path.join(root, version), name, body);
    } catch (err) {
      if (err instanceof UploadTooLarge) throw new UpdateError('upload_too_large', `${name}: ${err.message}`);
      throw err;
    }
  }

  private async requireRelease(version: string): Promise<ReleaseRecord> {
    const release = await this.store.getRelease(version);
    if (!release) throw new UpdateError('unknown_release', `version ${version} is not published; publish it first (fleet release publish ${version})`);
    return release;
  }

  async rollout(req: RolloutRequest): Promise<RolloutState> {
    this.dir();
    await this.requireRelease(req.version);
    const decision = planRollout(await this.store.getRollout(), req, this.now().toISOString());
    if (!decision.ok) throw new UpdateError('downgrade_refused', decision.message);
    await this.store.saveRollout(decision.state, 'rollout', req);
    return decision.state;
  }

  private async setPaused(paused: boolean): Promise<RolloutState> {
    const current = await this.store.getRollout();
    if (!current) throw new UpdateError('no_rollout', 'there is no rollout yet; start one with fleet release rollout <version> --percent N');
    const state = { ...current, paused, updatedAt: this.now().toISOString() };
    await this.store.saveRollout(state, paused ? 'pause' : 'resume', { targetVersion: current.targetVersion });
    return state;
  }

  pause(): Promise<RolloutState> {
    return this.setPaused(true);
  }

  resume(): Promise<RolloutState> {
    return this.setPaused(false);
  }

  async pin(cabId: string, version: string): Promise<void> {
    await this.requireRelease(version);
    if (!(await this.store.pin(cabId, version, this.now().toISOString()))) {
      throw new UpdateError('unknown_cab', `no cab ${cabId}; add it with fleet add ${cabId} first`);
    }
  }

  async unpin(cabId: string): Promise<boolean> {
    return this.store.unpin(cabId, this.now().toISOString());
  }

  async assignment(cabId: string): Promise<Assignment | null> {
    return assignRelease(cabId, await this.store.getRollout(), await this.store.getPin(cabId));
  }

  /** For GET /admin/cabs: each cab's target and last refused update, read once for the whole list. */
  async targets(cabIds: string[]): Promise<Map<string, CabUpdateTarget>> {
    const rollout = await this.store.getRollout();
    const pins = new Map((await this.store.listPins()).map((p) => [p.cabId, p.version]));
    const checks = new Map((await this.store.listChecks()).map((c) => [c.cabId, c.checkedAt]));
    const refusals = new Map((await this.store.listRefusals()).map(({ cabId, ...r }) => [cabId, r]));
    return new Map(
      cabIds.map((id) => {
        const a = assignRelease(id, rollout, pins.get(id) ?? null);
        const refusal = refusals.get(id) ?? null;
        return [
          id,
          {
            targetVersion: a?.version ?? null,
            targetReason: a?.reason ?? null,
            bucket: rolloutBucket(id),
            lastUpdateCheckAt: checks.get(id) ?? null,
            updateRefusal: refusal,
          },
        ];
      }),
    );
  }

  /** A tablet refused to install a release (its signature did not verify); kept per cab. */
  async recordRefusal(cabId: string, report: { version: string; code: string; message: string }): Promise<void> {
    await this.store.recordRefusal({ cabId, ...report, reportedAt: this.now().toISOString() });
  }

  log(limit: number) {
    return this.store.log(limit);
  }

  async status(): Promise<RolloutStatus> {
    return { rollout: await this.store.getRollout(), releases: await this.store.listReleases(), pins: await this.store.listPins() };
  }

  /**
   * The file a cab asked for: a feed comes from the release its rollout assigns; an artifact
   * from that release, or (an old blockmap for a differential download) from the newest
   * release that has it. Only files indexed at publish time are ever served.
   */
  async resolveFile(cabId: string, name: string): Promise<ServedFile> {
    const root = this.dir();
    const signatureOf = SIGNATURE_FEED_NAME.exec(name)?.[1];
    if (signatureOf !== undefined) return this.signatureFile(root, signatureOf);
    const assigned = await this.assignment(cabId);
    if (CHANNEL_FILE.test(name)) {
      await this.store.recordCheck(cabId, this.now().toISOString(), assigned?.version ?? null);
      if (!assigned)
        throw new UpdateError(
          'no_release_assigned',
          `no release is assigned to cab ${cabId} yet: roll one out (fleet release rollout <version> --percent 100)`,
        );
    }
    let found: { version: string; dir: string; size: number } | null = null;
    if (assigned) {
      const release = await this.requireRelease(assigned.version);
      const file = await this.store.releaseFile(release.version, name);
      if (file) found = { version: release.version, dir: release.dir, size: file.size };
    }
    if (!found && !CHANNEL_FILE.test(name)) {
      const any = await this.store.findFileAnywhere(name);
      if (any) found = { version: any.version, dir: any.dir, size: any.file.size };
    }
    if (!found) {
      throw new UpdateError('not_in_release', `${name} is not part of ${assigned ? `release ${assigned.version}` : 'any published release'}`);
    }
    return this.servedFile(root, found, name);
  }

  /** A version's signature, by version: the tablet asks for the one of the release it downloaded. */
  private async signatureFile(root: string, version: string): Promise<ServedFile> {
    const release = await this.store.getRelease(version);
    const file = release ? await this.store.releaseFile(version, SIGNATURE_FILE) : null;
    if (!release || !file) throw new UpdateError('not_in_release', `version ${version} is not published with a signature`);
    return this.servedFile(root, { version, dir: release.dir, size: file.size }, SIGNATURE_FILE);
  }

  private servedFile(root: string, found: { version: string; dir: string; size: number }, name: string): ServedFile {
    const full = path.join(root, found.dir, name);
    let size: number;
    try {
      size = statSync(full).size;
    } catch {
      size = -1;
    }
    // A folder edited after publishing would fail the tablet's checksum; say so here instead.
    if (size !== found.size) {
      throw new UpdateError(
        'release_changed',
        `${found.dir}/${name} changed or vanished since ${found.version} was published; restore the folder or publish a new version`,
      );
    }
    return { path: full, size, version: found.version, isFeed: CHANNEL_FILE.test(name) };
  }
}
