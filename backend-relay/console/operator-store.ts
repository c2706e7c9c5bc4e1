/**
 * Operator accounts, their sessions and the audit log, on the relay's main connection (like the
 * payments table). A session cookie is a random token; only its SHA-256 is stored, so a copy of
 * the database logs nobody in.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { OPERATOR_ROLES, roleAllows, type AuditEntry, type Operator, type OperatorRole } from '../../protocol/console-api.js';

export { OPERATOR_ROLES, roleAllows, type AuditEntry, type Operator, type OperatorRole };
export const operatorRole = z.enum(OPERATOR_ROLES, { error: 'role must be admin, operator or viewer' });
export const operatorName = z
  .string({ error: 'give the operator name' })
  .regex(/^[a-z][a-z0-9._-]{1,39}$/, 'an operator name is 2–40 lowercase letters, digits, dots, dashes or underscores, starting with a letter');

interface OperatorRow {
  name: string;
  role: OperatorRole;
  password_hash: string;
  must_change_password: number;
  disabled: number;
  created_at: string;
  last_login_at: string | null;
}

export interface Session {
  operator: Operator;
  csrfToken: string;
  expiresAtMs: number;
}

export interface NewAuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  outcome?: 'ok' | 'refused';
  detail?: unknown;
  ip?: string | null;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const toOperator = (row: OperatorRow): Operator => ({
  name: row.name,
  role: row.role,
  mustChangePassword: row.must_change_password === 1,
  disabled: row.disabled === 1,
  createdAt: row.created_at,
  lastLoginAt: row.last_login_at,
});

export interface SessionTimes {
  /** A session unused this long ends. */
  idleMs: number;
  /** No session lasts longer than this, however busy. */
  maxMs: number;
}

export class OperatorStore {
  constructor(
    private readonly db: Database.Database,
    private readonly times: SessionTimes,
  ) {}

  count(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM operators`).get() as { n: number }).n;
  }

  get(name: string): Operator | null {
    const row = this.db.prepare<[string], OperatorRow>(`SELECT * FROM operators WHERE name = ?`).get(name);
    return row ? toOperator(row) : null;
  }

  passwordHash(name: string): string | null {
    return this.db.prepare<[string], { password_hash: string }>(`SELECT password_hash FROM operators WHERE name = ?`).get(name)?.password_hash ?? null;
  }

  list(): Operator[] {
    return this.db.prepare<[], OperatorRow>(`SELECT * FROM operators ORDER BY name`).all().map(toOperator);
  }

  /** False when the name is taken. */
  add(name: string, role: OperatorRole, passwordHash: string, nowIso: string): boolean {
    const info = this.db
      .prepare(
        `INSERT INTO operators (name, role, password_hash, must_change_password, created_at, password_changed_at)
         VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(name) DO NOTHING`,
      )
      .run(name, role, passwordHash, nowIso, nowIso);
    return info.changes === 1;
  }

  /**
   * A new password; `mustChange` when an administrator set it (one-time). Every session of the
   * operator ends except `keepSession` (the one that changed it). False when there is no such operator.
   */
  setPassword(name: string, passwordHash: string, mustChange: boolean, nowIso: string, keepSession?: string): boolean {
    return this.db.transaction(() => {
      const info = this.db
        .prepare(`UPDATE operators SET password_hash = ?, must_change_password = ?, password_changed_at = ? WHERE name = ?`)
        .run(passwordHash, mustChange ? 1 : 0, nowIso, name);
      if (info.changes === 0) return false;
      this.db.prepare(`DELETE FROM operator_sessions WHERE operator = ? AND token_hash IS NOT ?`).run(name, keepSession ? sha256(keepSession) : null);
      return true;
    })();
  }

  /** Disables (or enables) the account; disabling ends its sessions. False when there is no such operator. */
  setDisabled(name: string, disabled: boolean): boolean {
    return this.db.transaction(() => {
      const info = this.db.prepare(`UPDATE operators SET disabled = ? WHERE name = ?`).run(disabled ? 1 : 0, name);
      if (info.changes === 0) return false;
      if (disabled) this.db.prepare(`DELETE FROM operator_sessions WHERE operator = ?`).run(name);
      return true;
    })();
  }

  /** A new session: returns the cookie token (shown only to the browser) and the CSRF token. */
  openSession(name: string, nowMs: number): { token: string; csrfToken: string; expiresAtMs: number } {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAtMs = nowMs + this.times.idleMs;
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM operator_sessions WHERE expires_at_ms <= ? OR created_at_ms <= ?`).run(nowMs, nowMs - this.times.maxMs);
      this.db
        .prepare(`INSERT INTO operator_sessions (token_hash, operator, csrf_token, created_at_ms, last_used_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(sha256(token), name, csrfToken, nowMs, nowMs, expiresAtMs);
      this.db.prepare(`UPDATE operators SET last_login_at = ? WHERE name = ?`).run(new Date(nowMs).toISOString(), name);
    })();
    return { token, csrfToken, expiresAtMs };
  }

  /**
   * The live session of this cookie token, its idle expiry pushed on; null when it is unknown,
   * expired (idle or past its maximum age) or its operator is disabled.
   */
  touchSession(token: string, nowMs: number): Session | null {
    const row = this.db
      .prepare<[string], OperatorRow & { csrf_token: string; created_at_ms: number; expires_at_ms: number }>(
        `SELECT o.*, s.csrf_token, s.created_at_ms, s.expires_at_ms FROM operator_sessions s JOIN operators o ON o.name = s.operator WHERE s.token_hash = ?`,
      )
      .get(sha256(token));
    if (!row) return null;
    if (row.expires_at_ms <= nowMs || row.created_at_ms + this.times.maxMs <= nowMs || row.disabled === 1) {
      this.closeSession(token);
      return null;
    }
    const expiresAtMs = Math.min(nowMs + this.times.idleMs, row.created_at_ms + this.times.maxMs);
    this.db.prepare(`UPDATE operator_sessions SET last_used_at_ms = ?, expires_at_ms = ? WHERE token_hash = ?`).run(nowMs, expiresAtMs, sha256(token));
    return { operator: toOperator(row), csrfToken: row.csrf_token, expiresAtMs };
  }

  /** The session without extending it (the live namespace checks it on every push). */
  peekSession(token: string, nowMs: number): Session | null {
    const row = this.db
      .prepare<[string], OperatorRow & { csrf_token: string; expires_at_ms: number }>(
        `SELECT o.*, s.csrf_token, s.expires_at_ms FROM operator_sessions s JOIN operators o ON o.name = s.operator WHERE s.token_hash = ?`,
      )
      .get(sha256(token));
    if (!row || row.expires_at_ms <= nowMs || row.disabled === 1) return null;
    return { operator: toOperator(row), csrfToken: row.csrf_token, expiresAtMs: row.expires_at_ms };
  }

  closeSession(token: string): void {
    this.db.prepare(`DELETE FROM operator_sessions WHERE token_hash = ?`).run(sha256(token));
  }

  audit(entry: NewAuditEntry, nowIso: string): void {
    this.db
      .prepare(`INSERT INTO audit_log (at, actor, action, target, outcome, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(
        nowIso,
        entry.actor,
        entry.action,
        entry.target ?? null,
        entry.outcome ?? 'ok',
        entry.detail === undefined ? null : JSON.stringify(entry.detail),
        entry.ip ?? null,
      );
  }

  /** Newest first; `beforeId` pages back, `target` narrows to one cab or operator. */
  auditLog(options: { limit: number; beforeId?: number; target?: string }): AuditEntry[] {
    const rows = this.db
      .prepare<[number, string | null, string | null, number], Omit<AuditEntry, 'detail'> & { detail: string | null }>(
        `SELECT * FROM audit_log WHERE id < ? AND (? IS NULL OR target = ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(options.beforeId ?? Number.MAX_SAFE_INTEGER, options.target ?? null, options.target ?? null, options.limit);
    return rows.map((r) => ({ ...r, detail: r.detail === null ? null : (JSON.parse(r.detail) as unknown) }));
  }
}
