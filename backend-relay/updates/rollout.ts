/**
 * Staged rollout as pure functions: which release each cab is offered, and how an operator's
 * request changes the fleet's rollout. No I/O here; the store persists what these decide.
 */
import { createHash } from 'node:crypto';
import { compareVersions } from './version.js';

export interface RolloutState {
  /** The release being rolled out. */
  targetVersion: string;
  /** What cabs outside the rollout are offered; null before the first complete rollout. */
  stableVersion: string | null;
  /** Cabs whose bucket is below this get the target (0–100). */
  percent: number;
  /** Cabs that get the target whatever their bucket (canaries). */
  namedCabs: string[];
  /** While paused, nobody new is offered the target; cabs already on it stay (no downgrades). */
  paused: boolean;
  updatedAt: string;
}

export type AssignmentReason = 'pinned' | 'named' | 'in_percent' | 'outside_percent' | 'paused';

export interface Assignment {
  version: string;
  reason: AssignmentReason;
}

/**
 * A stable bucket 0–99 from the cab id alone, so raising the percentage only ever adds cabs,
 * and the same cabs lead every rollout (name other canaries explicitly).
 */
export function rolloutBucket(cabId: string): number {
  return createHash('sha256').update(cabId, 'utf8').digest().readUInt32BE(0) % 100;
}

/** The release a cab is offered, or null when there is none for it yet. */
export function assignRelease(cabId: string, rollout: RolloutState | null, pinnedVersion: string | null): Assignment | null {
  if (pinnedVersion !== null) return { version: pinnedVersion, reason: 'pinned' };
  if (rollout === null) return null;
  const stable = (reason: AssignmentReason): Assignment | null => (rollout.stableVersion === null ? null : { version: rollout.stableVersion, reason });
  if (rollout.paused) return stable('paused');
  if (rollout.namedCabs.includes(cabId)) return { version: rollout.targetVersion, reason: 'named' };
  if (rolloutBucket(cabId) < rollout.percent) return { version: rollout.targetVersion, reason: 'in_percent' };
  return stable('outside_percent');
}

export interface RolloutRequest {
  version: string;
  percent: number;
  namedCabs: string[];
}

export type RolloutDecision = { ok: true; state: RolloutState } | { ok: false; code: string; message: string };

/**
 * Starts a rollout of a new version, or changes who gets the current one. A newer target
 * replaces the old one; the old target becomes the stable version only if it had reached every
 * cab. Older targets are refused: tablets never downgrade, so a rollback is a newer build.
 */
export function planRollout(current: RolloutState | null, req: RolloutRequest, nowIso: string): RolloutDecision {
  const next = { percent: req.percent, namedCabs: [...new Set(req.namedCabs)].sort(), paused: false, updatedAt: nowIso };
  if (current === null) return { ok: true, state: { targetVersion: req.version, stableVersion: null, ...next } };
  if (req.version === current.targetVersion) return { ok: true, state: { ...current, ...next } };
  if (compareVersions(req.version, current.targetVersion) < 0) {
    return {
      ok: false,
      code: 'downgrade_refused',
      message:
        `${req.version} is older than the current target ${current.targetVersion}; tablets never install an older version. ` +
        `To roll back, build the good code as a newer version (e.g. bump the patch), publish it and roll that out, or pause this rollout`,
    };
  }
  const completed = current.percent === 100 && !current.paused;
  return {
    ok: true,
    state: { targetVersion: req.version, stableVersion: completed ? current.targetVersion : current.stableVersion, ...next },
  };
}
