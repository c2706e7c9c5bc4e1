/**
 * Durable release and rollout state, in the relay's database (migration 2). Every method
 * resolves after its commit, so an admin 2xx means the decision survives a crash.
 */
import type Database from 'better-sqlite3';
import type { ScannedRelease, ReleaseFile } from './release-folder.js';
import type { RolloutState } from './rollout.js';

export interface ReleaseRecord {
  version: string;
  dir: string;
  channels: string[];
  publishedAt: string;
}

export interface CabPin {
  cabId: string;
  version: string;
  pinnedAt: string;
}

export interface UpdateRefusal {
  cabId: string;
  version: string;
  code: string;
  message: string;
  reportedAt: string;
}

export interface UpdateCheck {
  cabId: string;
  checkedAt: string;
  offeredVersion: string | null;
}

export interface RolloutStore {
  /** False when the version (or its folder) is already published. */
  publishRelease(release: ScannedRelease, nowIso: string): Promise<boolean>;
  getRelease(version: string): Promise<ReleaseRecord | null>;
  listReleases(): Promise<ReleaseRecord[]>;
  /** A file of one release, by name. */
  releaseFile(version: string, name: string): Promise<ReleaseFile | null>;
  /** The newest release holding a file of this name (old blockmaps for differential downloads). */
  findFileAnywhere(name: string): Promise<{ version: string; dir: string; file: ReleaseFile } | null>;
  getRollout(): Promise<RolloutState | null>;
  /** Replaces the rollout and logs why, in one transaction. */
  saveRollout(state: RolloutState, action: string, detail: unknown): Promise<void>;
  getPin(cabId: string): Promise<string | null>;
  listPins(): Promise<CabPin[]>;
  /** False when the cab is unknown. */
  pin(cabId: string, version: string, nowIso: string): Promise<boolean>;
  unpin(cabId: string, nowIso: string): Promise<boolean>;
  recordCheck(cabId: string, nowIso: string, offeredVersion: string | null): Promise<void>;
  listChecks(): Promise<UpdateCheck[]>;
  /** Keeps each cab's latest refusal; false when there is no such cab. */
  recordRefusal(refusal: UpdateRefusal): Promise<boolean>;
  listRefusals(): Promise<UpdateRefusal[]>;
  log(limit: number): Promise<{ at: string; action: string; detail: unknown }[]>;
}

interface RolloutRow {
  target_version: string;
  stable_version: string | null;
  percent: number;
  named_cabs: string;
  paused: number;
  updated_at: string;
}

interface ReleaseRow {
  version: string;
  dir: string;
  channels: string;
  published_at: string;
}

const toRelease = (r: ReleaseRow): ReleaseRecord => ({
  version: r.version,
  dir: r.dir,
  channels: JSON.parse(r.channels) as string[],
  publishedAt: r.published_at,
});

/** Shares the relay store's connection: one writer, migrations already applied. */
export class SqliteRolloutStore implements RolloutStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      releaseExists: db.prepare<[string, string], { one: number }>(`SELECT 1 AS one FROM releases WHERE version = ? OR dir = ?`),
      insertRelease: db.prepare(`INSERT INTO releases (version, dir, channels, published_at) VALUES (?, ?, ?, ?)`),
      insertFile: db.prepare(`INSERT INTO release_files (version, name, size, sha512) VALUES (?, ?, ?, ?)`),
      release: db.prepare<[string], ReleaseRow>(`SELECT * FROM releases WHERE version = ?`),
      releases: db.prepare<[], ReleaseRow>(`SELECT * FROM releases ORDER BY published_at, version`),
      file: db.prepare<[string, string], ReleaseFile>(`SELECT name, size, sha512 FROM release_files WHERE version = ? AND name = ?`),
      fileAnywhere: db.prepare<[string], ReleaseFile & { version: string; dir: string }>(
        `SELECT f.name, f.size, f.sha512, r.version, r.dir FROM release_files f JOIN releases r USING (version)
         WHERE f.name = ? ORDER BY r.published_at DESC LIMIT 1`,
      ),
      rollout: db.prepare<[], RolloutRow>(`SELECT * FROM rollout WHERE id = 1`),
      saveRollout: db.prepare(
        `INSERT INTO rollout (id, target_version, stable_version, percent, named_cabs, paused, updated_at)
         VALUES (1, @targetVersion, @stableVersion, @percent, @namedCabs, @paused, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET target_version = excluded.target_version, stable_version = excluded.stable_version,
           percent = excluded.percent, named_cabs = excluded.named_cabs, paused = excluded.paused, updated_at = excluded.updated_at`,
      ),
      log: db.prepare(`INSERT INTO rollout_log (at, action, detail) VALUES (?, ?, ?)`),
      readLog: db.prepare<[number], { at: string; action: string; detail: string }>(`SELECT at, action, detail FROM rollout_log ORDER BY seq DESC LIMIT ?`),
      cabExists: db.prepare<[string], { one: number }>(`SELECT 1 AS one FROM cabs WHERE cab_id = ?`),
      pin: db.prepare(
        `INSERT INTO cab_pins (cab_id, version, pinned_at) VALUES (?, ?, ?)
         ON CONFLICT (cab_id) DO UPDATE SET version = excluded.version, pinned_at = excluded.pinned_at`,
      ),
      unpin: db.prepare(`DELETE FROM cab_pins WHERE cab_id = ?`),
      getPin: db.prepare<[string], { version: string }>(`SELECT version FROM cab_pins WHERE cab_id = ?`),
      pins: db.prepare<[], { cab_id: string; version: string; pinned_at: string }>(`SELECT * FROM cab_pins ORDER BY cab_id`),
      check: db.prepare(
        `INSERT INTO update_checks (cab_id, checked_at, offered_version) VALUES (?, ?, ?)
         ON CONFLICT (cab_id) DO UPDATE SET checked_at = excluded.checked_at, offered_version = excluded.offered_version`,
      ),
      checks: db.prepare<[], { cab_id: string; checked_at: string; offered_version: string | null }>(`SELECT * FROM update_checks`),
      refusal: db.prepare(
        `INSERT INTO update_refusals (cab_id, version, code, message, reported_at) VALUES (@cabId, @version, @code, @message, @reportedAt)
         ON CONFLICT (cab_id) DO UPDATE SET version = excluded.version, code = excluded.code, message = excluded.message, reported_at = excluded.reported_at`,
      ),
      refusals: db.prepare<[], { cab_id: string; version: string; code: string; message: string; reported_at: string }>(`SELECT * FROM update_refusals`),
    };
  }

  async publishRelease(release: ScannedRelease, nowIso: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.s.releaseExists.get(release.version, release.dir)) return false;
        this.s.insertRelease.run(release.version, release.dir, JSON.stringify(release.channels), nowIso);
        for (const f of release.files) this.s.insertFile.run(release.version, f.name, f.size, f.sha512);
        this.s.log.run(nowIso, 'publish', JSON.stringify({ version: release.version, dir: release.dir, files: release.files.length }));
        return true;
      })
      .immediate();
  }

  async getRelease(version: string): Promise<ReleaseRecord | null> {
    const row = this.s.release.get(version);
    return row ? toRelease(row) : null;
  }

  async listReleases(): Promise<ReleaseRecord[]> {
    return this.s.releases.all().map(toRelease);
  }

  async releaseFile(version: string, name: string): Promise<ReleaseFile | null> {
    return this.s.file.get(version, name) ?? null;
  }

  async findFileAnywhere(name: string) {
    const row = this.s.fileAnywhere.get(name);
    return row ? { version: row.version, dir: row.dir, file: { name: row.name, size: row.size, sha512: row.sha512 } } : null;
  }

  async getRollout(): Promise<RolloutState | null> {
    const row = this.s.rollout.get();
    if (!row) return null;
    return {
      targetVersion: row.target_version,
      stableVersion: row.stable_version,
      percent: row.percent,
      namedCabs: JSON.parse(row.named_cabs) as string[],
      paused: row.paused === 1,
      updatedAt: row.updated_at,
    };
  }

  async saveRollout(state: RolloutState, action: string, detail: unknown): Promise<void> {
    this.db
      .transaction(() => {
        this.s.saveRollout.run({ ...state, namedCabs: JSON.stringify(state.namedCabs), paused: state.paused ? 1 : 0 });
        this.s.log.run(state.updatedAt, action, JSON.stringify(detail));
      })
      .immediate();
  }

  async getPin(cabId: string): Promise<string | null> {
    return this.s.getPin.get(cabId)?.version ?? null;
  }

  async listPins(): Promise<CabPin[]> {
    return this.s.pins.all().map((r) => ({ cabId: r.cab_id, version: r.version, pinnedAt: r.pinned_at }));
  }

  async pin(cabId: string, version: string, nowIso: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (!this.s.cabExists.get(cabId)) return false;
        this.s.pin.run(cabId, version, nowIso);
        this.s.log.run(nowIso, 'pin', JSON.stringify({ cabId, version }));
        return true;
      })
      .immediate();
  }

  async unpin(cabId: string, nowIso: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        const removed = this.s.unpin.run(cabId).changes > 0;
        if (removed) this.s.log.run(nowIso, 'unpin', JSON.stringify({ cabId }));
        return removed;
      })
      .immediate();
  }

  async recordCheck(cabId: string, nowIso: string, offeredVersion: string | null): Promise<void> {
    this.s.check.run(cabId, nowIso, offeredVersion);
  }

  async listChecks(): Promise<UpdateCheck[]> {
    return this.s.checks.all().map((r) => ({ cabId: r.cab_id, checkedAt: r.checked_at, offeredVersion: r.offered_version }));
  }

  async recordRefusal(refusal: UpdateRefusal): Promise<boolean> {
    if (!this.s.cabExists.get(refusal.cabId)) return false;
    this.s.refusal.run(refusal);
    return true;
  }

  async listRefusals(): Promise<UpdateRefusal[]> {
    return this.s.refusals.all().map((r) => ({ cabId: r.cab_id, version: r.version, code: r.code, message: r.message, reportedAt: r.reported_at }));
  }

  async log(limit: number) {
    return this.s.readLog.all(limit).map((r) => ({ at: r.at, action: r.action, detail: JSON.parse(r.detail) as unknown }));
  }
}
