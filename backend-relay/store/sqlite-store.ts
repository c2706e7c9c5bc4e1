/**
 * The embedded RelayStore: SQLite through better-sqlite3, WAL, synchronous=FULL, prepared
 * statements. For a database file, writes run on a writer thread (writer-thread.ts) and reads
 * on the caller's connection; an in-memory database keeps both on one connection.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { RECEIPTS_MIGRATION, RECEIPTS_RETENTION_MIGRATION } from '../receipts/receipt-schema.js';
import { ROLLOUT_MIGRATION, UPDATE_REFUSALS_MIGRATION } from '../updates/rollout-schema.js';
import type { PspName, RelayEventType, RideStateName } from '../../protocol/relay-protocol.js';
import type {
  CabInput,
  CabRecord,
  CabRoute,
  NewEvent,
  PruneResult,
  PutCabResult,
  RelayStore,
  StoredEvent,
  TabletStatusUpdate,
  UnroutedHook,
} from './relay-store.js';
import { installGroupCommit } from './group-commit.js';
import { WRITE_METHODS, type WriteMethod } from './store-writer-protocol.js';
import { WriterThread, type WriterThreadOptions } from './writer-thread.js';
import { PAYMENTS_MIGRATION } from './payment-schema.js';
import { PREAUTH_MIGRATION } from './preauth-schema.js';
import { HOOK_KEYS_MIGRATION } from './hook-keys-schema.js';
import { QR_CLAIMS_MIGRATION } from './qr-claim-schema.js';
import { RECONCILE_MIGRATION } from './reconcile-schema.js';
import { CONSOLE_MIGRATION } from '../console/console-schema.js';
import { INSERT_PAID_PAYMENT, paidPaymentOfEvent } from './paid-payments.js';
import { REFUND_LEDGER_MIGRATION } from './refund-ledger-schema.js';
import { PAYMENT_RULES_MIGRATION } from './payment-rules-schema.js';

/** Numbered migrations, applied in one transaction under PRAGMA user_version. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE cabs (
    cab_id        TEXT PRIMARY KEY,
    psp           TEXT NOT NULL,
    plate         TEXT NOT NULL,
    label         TEXT NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 1,
    token_hash    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT,
    app_version   TEXT,
    ride_state    TEXT,
    outbox_depth  INTEGER,
    last_seq      INTEGER NOT NULL DEFAULT 0,
    acked_seq     INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE cab_qr_codes (
    qr_code  TEXT PRIMARY KEY,
    cab_id   TEXT NOT NULL REFERENCES cabs(cab_id) ON DELETE CASCADE
  );
  CREATE INDEX cab_qr_codes_by_cab ON cab_qr_codes(cab_id);
  CREATE TABLE events (
    cab_id          TEXT NOT NULL REFERENCES cabs(cab_id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    id              TEXT NOT NULL UNIQUE,
    psp             TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL,
    type            TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    data            TEXT NOT NULL,
    committed_at_ms INTEGER NOT NULL,
    acked_at_ms     INTEGER,
    PRIMARY KEY (cab_id, seq),
    UNIQUE (psp, dedupe_key)
  );
  CREATE INDEX events_unacked ON events(cab_id) WHERE acked_at_ms IS NULL;
  CREATE INDEX events_acked_at ON events(acked_at_ms) WHERE acked_at_ms IS NOT NULL;
  CREATE TABLE unrouted_hooks (
    psp          TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    data         TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (psp, dedupe_key)
  );
  `,
  ROLLOUT_MIGRATION,
  RECEIPTS_MIGRATION,
  PAYMENTS_MIGRATION,
  PREAUTH_MIGRATION,
  UPDATE_REFUSALS_MIGRATION,
  HOOK_KEYS_MIGRATION,
  RECEIPTS_RETENTION_MIGRATION,
  RECONCILE_MIGRATION,
  QR_CLAIMS_MIGRATION,
  CONSOLE_MIGRATION,
  REFUND_LEDGER_MIGRATION,
  PAYMENT_RULES_MIGRATION,
];

interface CabRow {
  cab_id: string;
  psp: string;
  plate: string;
  label: string;
  enabled: number;
  token_hash: string;
  created_at: string;
  last_seen_at: string | null;
  app_version: string | null;
  ride_state: string | null;
  outbox_depth: number | null;
  last_seq: number;
  acked_seq: number;
  qr_content: string | null;
  currency: string | null;
  qr_codes: string | null;
  backlog: number;
}

interface RouteRow {
  cab_id: string;
  psp: string;
  enabled: number;
}

interface EventRow {
  cab_id: string;
  seq: number;
  id: string;
  type: string;
  occurred_at: string;
  data: string;
  committed_at_ms: number;
}

const CAB_SELECT = `
  SELECT c.*,
    (SELECT json_group_array(qr_code) FROM (SELECT qr_code FROM cab_qr_codes q WHERE q.cab_id = c.cab_id ORDER BY qr_code)) AS qr_codes,
    (SELECT COUNT(*) FROM events e WHERE e.cab_id = c.cab_id AND e.acked_at_ms IS NULL) AS backlog
  FROM cabs c`;

function toCab(row: CabRow): CabRecord {
  return {
    cabId: row.cab_id,
    psp: row.psp as PspName,
    qrCodes: row.qr_codes ? (JSON.parse(row.qr_codes) as string[]) : [],
    plate: row.plate,
    label: row.label,
    enabled: row.enabled === 1,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    appVersion: row.app_version,
    rideState: row.ride_state as RideStateName | null,
    outboxDepth: row.outbox_depth,
    lastSeq: row.last_seq,
    ackedSeq: row.acked_seq,
    backlog: row.backlog,
    qrContent: row.qr_content ?? null,
    currency: row.currency ?? null,
  };
}

function toRoute(row: RouteRow): CabRoute {
  return Object.freeze({ cabId: row.cab_id, psp: row.psp as PspName, enabled: row.enabled === 1 });
}

function toEvent(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    id: row.id,
    cabId: row.cab_id,
    type: row.type as RelayEventType,
    occurredAt: row.occurred_at,
    data: JSON.parse(row.data) as unknown,
    committedAtMs: row.committed_at_ms,
  };
}

/** Opens (and migrates) the database; refuses one written by a newer relay. */
export function openRelayDatabase(path: string, options: { migrate?: boolean } = {}): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Two connections write (the writer thread, and this one for payments and rollouts):
  // each waits for the other's commit instead of failing with SQLITE_BUSY.
  db.pragma('busy_timeout = 5000');
  if (options.migrate ?? true) migrate(db);
  return db;
}

export interface SqliteRelayStoreOptions {
  /** False keeps writes on this connection (the writer thread's own store; tests). */
  writerThread?: boolean;
  /** The writer thread's store: its sender already held lazy writes back, so they commit at once. */
  lazyWritesAlreadyHeld?: boolean;
  /** The writer thread died: every write fails from now on (WriterThreadOptions.onFailure). */
  onWriterFailure?: WriterThreadOptions['onFailure'];
  /** The fault drill (RELAY_DEBUG_WRITER_EXIT_ON): the writer thread ends when asked for this write. */
  debugWriterExitOn?: WriteMethod;
}

/**
 * The store owns the database and closes it; pass an open one to share it (payment and
 * rollout stores).
 */
export function openSqliteRelayStore(pathOrDb: string | Database.Database, options: SqliteRelayStoreOptions = {}): RelayStore {
  const db = typeof pathOrDb === 'string' ? openRelayDatabase(pathOrDb) : pathOrDb;
  const writer =
    (options.writerThread ?? true) && !db.memory
      ? new WriterThread(db.name, { onFailure: options.onWriterFailure, exitOnWrite: options.debugWriterExitOn })
      : null;
  return new SqliteRelayStore(db, writer, { holdLazyWrites: !options.lazyWritesAlreadyHeld });
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `The relay database has schema version ${version}, newer than this relay (${MIGRATIONS.length}). Upgrade the relay or point RELAY_DB at another file.`,
    );
  }
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

class SqliteRelayStore implements RelayStore {
  private readonly s;
  private closed = false;
  /**
   * Every cab's route, loaded whole on first use. Every webhook routes, and after each of the
   * writer thread's commits this connection's page cache starts cold: the two reads were 12 %
   * of the relay's main thread at 500 hooks/s, and a first read per cab still ~90 µs (docs/performance.md).
   * Only putCab and deleteCab change a route; once they commit, the cab's entry in `routesById`
   * goes. A QR code's entry counts only while it is that same object, so the QR codes a cab
   * dropped need no search. A miss is always read from the database; unknown QR codes are not
   * remembered.
   */
  private routesById: Map<string, CabRoute> | null = null;
  private readonly routesByQr = new Map<string, CabRoute>();

  constructor(
    private readonly db: Database.Database,
    private readonly writer: WriterThread | null,
    groupCommit: { holdLazyWrites: boolean },
  ) {
    this.s = {
      cabById: db.prepare<[string], CabRow>(`${CAB_SELECT} WHERE c.cab_id = ?`),
      cabByQr: db.prepare<[string], CabRow>(`${CAB_SELECT} WHERE c.cab_id = (SELECT cab_id FROM cab_qr_codes WHERE qr_code = ?)`),
      allCabs: db.prepare<[], CabRow>(`${CAB_SELECT} ORDER BY c.cab_id`),
      allRoutes: db.prepare<[], RouteRow & { qr_code: string | null }>(
        `SELECT c.cab_id, c.psp, c.enabled, q.qr_code FROM cabs c LEFT JOIN cab_qr_codes q ON q.cab_id = c.cab_id`,
      ),
      routeById: db.prepare<[string], RouteRow>(`SELECT cab_id, psp, enabled FROM cabs WHERE cab_id = ?`),
      routeByQr: db.prepare<[string], RouteRow>(`SELECT c.cab_id, c.psp, c.enabled FROM cab_qr_codes q JOIN cabs c ON c.cab_id = q.cab_id WHERE q.qr_code = ?`),
      qrOwner: db.prepare<[string], { cab_id: string }>(`SELECT cab_id FROM cab_qr_codes WHERE qr_code = ?`),
      insertCab: db.prepare(
        `INSERT INTO cabs (cab_id, psp, plate, label, enabled, token_hash, created_at)
         VALUES (@cabId, @psp, @plate, @label, @enabled, @tokenHash, @createdAt)`,
      ),
      updateCab: db.prepare(`UPDATE cabs SET psp = @psp, plate = @plate, label = @label, enabled = @enabled WHERE cab_id = @cabId`),
      setQrContent: db.prepare(`UPDATE cabs SET qr_content = ? WHERE cab_id = ?`),
      setCurrency: db.prepare(`UPDATE cabs SET currency = ? WHERE cab_id = ?`),
      cabExists: db.prepare<[string], { one: number }>(`SELECT 1 AS one FROM cabs WHERE cab_id = ?`),
      clearQrs: db.prepare(`DELETE FROM cab_qr_codes WHERE cab_id = ?`),
      insertQr: db.prepare(`INSERT INTO cab_qr_codes (qr_code, cab_id) VALUES (?, ?)`),
      setToken: db.prepare(`UPDATE cabs SET token_hash = ? WHERE cab_id = ?`),
      deleteCab: db.prepare(`DELETE FROM cabs WHERE cab_id = ?`),
      seen: db.prepare(`UPDATE cabs SET last_seen_at = ? WHERE cab_id = ?`),
      seenWithStatus: db.prepare(`UPDATE cabs SET last_seen_at = ?, app_version = ?, ride_state = ?, outbox_depth = ? WHERE cab_id = ?`),
      knownKey: db.prepare<[string, string], { one: number }>(`SELECT 1 AS one FROM hook_keys WHERE psp = ? AND dedupe_key = ?`),
      insertKey: db.prepare(`INSERT INTO hook_keys (psp, dedupe_key, seen_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      nextSeq: db.prepare<[string], { last_seq: number }>(`UPDATE cabs SET last_seq = last_seq + 1 WHERE cab_id = ? RETURNING last_seq`),
      insertEvent: db.prepare(
        `INSERT INTO events (cab_id, seq, id, psp, dedupe_key, type, occurred_at, data, committed_at_ms)
         VALUES (@cabId, @seq, @id, @psp, @dedupeKey, @type, @occurredAt, @data, @committedAtMs)`,
      ),
      insertUnrouted: db.prepare(
        `INSERT INTO unrouted_hooks (psp, dedupe_key, kind, reason, data, received_at)
         VALUES (@psp, @dedupeKey, @kind, @reason, @data, @receivedAt) ON CONFLICT DO NOTHING`,
      ),
      eventsAfter: db.prepare<[string, number, number], EventRow>(
        `SELECT cab_id, seq, id, type, occurred_at, data, committed_at_ms FROM events
         WHERE cab_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      ackOne: db.prepare(`UPDATE events SET acked_at_ms = ? WHERE cab_id = ? AND seq = ? AND acked_at_ms IS NULL`),
      ackThrough: db.prepare(`UPDATE events SET acked_at_ms = ? WHERE cab_id = ? AND seq <= ? AND acked_at_ms IS NULL`),
      raiseAckedSeq: db.prepare(`UPDATE cabs SET acked_seq = MAX(acked_seq, MIN(?, last_seq)) WHERE cab_id = ?`),
      backlog: db.prepare<[], { cab_id: string; n: number }>(`SELECT cab_id, COUNT(*) AS n FROM events WHERE acked_at_ms IS NULL GROUP BY cab_id`),
      pruneEvents: db.prepare(`DELETE FROM events WHERE acked_at_ms IS NOT NULL AND acked_at_ms < ?`),
      pruneUnrouted: db.prepare(`DELETE FROM unrouted_hooks WHERE received_at < ?`),
      // A key whose event is still stored (unacked events are kept) stays with it.
      pruneKeys: db.prepare(
        `DELETE FROM hook_keys WHERE seen_at_ms < ?
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.psp = hook_keys.psp AND e.dedupe_key = hook_keys.dedupe_key)`,
      ),
      ping: db.prepare<[], { one: number }>(`SELECT 1 AS one`),
      insertPaidPayment: db.prepare(INSERT_PAID_PAYMENT),
    };
    if (writer) {
      const writable = this as unknown as Record<string, unknown>;
      for (const name of WRITE_METHODS) writable[name] = (...args: unknown[]) => writer.call(name, args);
    } else {
      // Writes queued in the same event-loop turn share one transaction (one fsync).
      installGroupCommit(db, this, groupCommit);
    }
    // A route read before these commit is the old one: dropped once they have (or failed).
    const putCab = this.putCab.bind(this);
    this.putCab = (cab, ...rest) => putCab(cab, ...rest).finally(() => this.forgetRoute(cab.cabId));
    const deleteCab = this.deleteCab.bind(this);
    this.deleteCab = (cabId) => deleteCab(cabId).finally(() => this.forgetRoute(cabId));
  }

  async putCab(cab: CabInput, tokenHash: string, nowIso: string, options: { keepToken?: boolean } = {}): Promise<PutCabResult> {
    return this.db.transaction((): PutCabResult => {
      for (const qr of cab.qrCodes) {
        const owner = this.s.qrOwner.get(qr);
        if (owner && owner.cab_id !== cab.cabId) return { status: 'qr_conflict', qrCode: qr, ownerCabId: owner.cab_id };
      }
      const row = { ...cab, enabled: cab.enabled ? 1 : 0 };
      const exists = this.s.cabExists.get(cab.cabId) !== undefined;
      if (exists) {
        this.s.updateCab.run(row);
        if (!options.keepToken) this.s.setToken.run(tokenHash, cab.cabId);
      } else {
        this.s.insertCab.run({ ...row, tokenHash, createdAt: nowIso });
      }
      // Written with the cab, so a provisioned QR and its cab are never apart.
      if (cab.qrContent !== undefined) this.s.setQrContent.run(cab.qrContent, cab.cabId);
      if (cab.currency !== undefined) this.s.setCurrency.run(cab.currency, cab.cabId);
      this.s.clearQrs.run(cab.cabId);
      for (const qr of new Set(cab.qrCodes)) this.s.insertQr.run(qr, cab.cabId);
      return { status: exists ? 'updated' : 'created' };
    })();
  }

  async getCab(cabId: string): Promise<CabRecord | null> {
    const row = this.s.cabById.get(cabId);
    return row ? toCab(row) : null;
  }

  async findCabByQrCode(qrCode: string): Promise<CabRecord | null> {
    const row = this.s.cabByQr.get(qrCode);
    return row ? toCab(row) : null;
  }

  async findRoute(by: { cabId: string } | { qrCode: string }): Promise<CabRoute | null> {
    const byId = (this.routesById ??= this.loadRoutes());
    if ('cabId' in by) return byId.get(by.cabId) ?? this.remember(this.s.routeById.get(by.cabId));
    const known = this.routesByQr.get(by.qrCode);
    if (known && byId.get(known.cabId) === known) return known;
    const route = this.remember(this.s.routeByQr.get(by.qrCode));
    if (route) this.routesByQr.set(by.qrCode, route);
    else this.routesByQr.delete(by.qrCode);
    return route;
  }

  /** The cab's current route: the one already known, else this row's. */
  private remember(row: RouteRow | undefined): CabRoute | null {
    if (!row) return null;
    const byId = this.routesById!;
    const route = byId.get(row.cab_id) ?? toRoute(row);
    byId.set(row.cab_id, route);
    return route;
  }

  private loadRoutes(): Map<string, CabRoute> {
    const byId = new Map<string, CabRoute>();
    for (const row of this.s.allRoutes.iterate()) {
      const route = byId.get(row.cab_id) ?? toRoute(row);
      byId.set(row.cab_id, route);
      if (row.qr_code !== null) this.routesByQr.set(row.qr_code, route);
    }
    return byId;
  }

  private forgetRoute(cabId: string): void {
    this.routesById?.delete(cabId);
  }

  async listCabs(): Promise<CabRecord[]> {
    return this.s.allCabs.all().map(toCab);
  }

  async setTokenHash(cabId: string, tokenHash: string): Promise<boolean> {
    return this.s.setToken.run(tokenHash, cabId).changes > 0;
  }

  async deleteCab(cabId: string): Promise<boolean> {
    return this.s.deleteCab.run(cabId).changes > 0;
  }

  async markSeen(cabId: string, atIso: string, status?: TabletStatusUpdate): Promise<void> {
    if (status) this.s.seenWithStatus.run(atIso, status.appVersion, status.rideState, status.outboxDepth, cabId);
    else this.s.seen.run(atIso, cabId);
  }

  async isKnownHook(psp: PspName, dedupeKey: string): Promise<boolean> {
    return this.s.knownKey.get(psp, dedupeKey) !== undefined;
  }

  async appendEvent(event: NewEvent, committedAtMs: number) {
    return this.db.transaction(() => {
      // The same test as isKnownHook, which the ingress skips here: known as an event, as
      // unrouted, or from an event since pruned or deleted with its cab.
      if (this.s.insertKey.run(event.psp, event.dedupeKey, committedAtMs).changes === 0) return { status: 'duplicate' as const };
      const next = this.s.nextSeq.get(event.cabId);
      if (!next) throw new Error(`cab ${event.cabId} vanished while storing an event`);
      const data = JSON.stringify(event.data);
      this.s.insertEvent.run({ ...event, seq: next.last_seq, data, committedAtMs });
      // The relay's own record of the payment commits with the event that tells the cab.
      const paid = paidPaymentOfEvent(event);
      if (paid) this.s.insertPaidPayment.run(paid);
      const stored: StoredEvent = {
        seq: next.last_seq,
        id: event.id,
        cabId: event.cabId,
        type: event.type,
        occurredAt: event.occurredAt,
        data: event.data,
        committedAtMs,
      };
      return { status: 'stored' as const, event: stored };
    })();
  }

  async recordUnrouted(hook: UnroutedHook, atIso: string): Promise<'stored' | 'duplicate'> {
    return this.db.transaction(() => {
      if (this.s.insertKey.run(hook.psp, hook.dedupeKey, Date.parse(atIso)).changes === 0) return 'duplicate' as const;
      const info = this.s.insertUnrouted.run({ ...hook, data: JSON.stringify(hook.data), receivedAt: atIso });
      return info.changes > 0 ? ('stored' as const) : ('duplicate' as const);
    })();
  }

  async eventsAfter(cabId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.s.eventsAfter.all(cabId, afterSeq, limit).map(toEvent);
  }

  async markAcked(cabId: string, seq: number, atMs: number): Promise<void> {
    this.db.transaction(() => {
      this.s.ackOne.run(atMs, cabId, seq);
      this.s.raiseAckedSeq.run(seq, cabId);
    })();
  }

  async markAckedThrough(cabId: string, seq: number, atMs: number): Promise<void> {
    if (seq <= 0) return;
    this.db.transaction(() => {
      this.s.ackThrough.run(atMs, cabId, seq);
      this.s.raiseAckedSeq.run(seq, cabId);
    })();
  }

  async backlogByCab(): Promise<Map<string, number>> {
    return new Map(this.s.backlog.all().map((r) => [r.cab_id, r.n]));
  }

  async prune(olderThanMs: number, keysOlderThanMs = olderThanMs): Promise<PruneResult> {
    return this.db.transaction(() => ({
      events: this.s.pruneEvents.run(olderThanMs).changes,
      unrouted: this.s.pruneUnrouted.run(new Date(olderThanMs).toISOString()).changes,
      hookKeys: this.s.pruneKeys.run(keysOlderThanMs).changes,
    }))();
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('the relay database is closed');
    if (this.writer?.error) throw this.writer.error;
    this.s.ping.get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The writer commits what is queued first; its connection closes before this one.
    await this.writer?.close();
    this.db.close();
  }
}
