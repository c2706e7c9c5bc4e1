/**
 * The relay's durable state behind one interface, so a PostgreSQL implementation can replace
 * the embedded SQLite one for large fleets. Every method resolves only after its commit.
 */
import type { PspName, RelayEventType, RideStateName } from '../../protocol/relay-protocol.js';

export interface CabInput {
  cabId: string;
  psp: PspName;
  qrCodes: string[];
  plate: string;
  label: string;
  enabled: boolean;
  /** What a PSP's provisioning gave the cab's QR (Vipps merchant-callback QR); unchanged when omitted. */
  qrContent?: string | null;
  /** ISO 4217; null: the PSP's default (payments/cab-currency.ts); unchanged when omitted. */
  currency?: string | null;
}

/** What routing a webhook needs of its cab: fields only putCab and deleteCab change. */
export interface CabRoute {
  cabId: string;
  psp: PspName;
  enabled: boolean;
}

export interface CabRecord extends CabInput {
  qrContent: string | null;
  currency: string | null;
  tokenHash: string;
  createdAt: string;
  lastSeenAt: string | null;
  appVersion: string | null;
  rideState: RideStateName | null;
  outboxDepth: number | null;
  /** The highest seq assigned to this cab so far (seqs are never reused, even after pruning). */
  lastSeq: number;
  /** Every event up to this seq has been acked by the tablet. */
  ackedSeq: number;
  /** Unacked events now stored. */
  backlog: number;
}

export interface NewEvent {
  id: string;
  cabId: string;
  psp: PspName;
  /** Unique per PSP: a retry with the same key is a duplicate. */
  dedupeKey: string;
  type: RelayEventType;
  occurredAt: string;
  data: unknown;
}

export interface StoredEvent {
  seq: number;
  id: string;
  cabId: string;
  type: RelayEventType;
  occurredAt: string;
  data: unknown;
  /** When the event was committed, epoch ms (for delivery latency). */
  committedAtMs: number;
}

export interface UnroutedHook {
  psp: PspName;
  kind: string;
  dedupeKey: string;
  reason: string;
  data: unknown;
}

export interface PruneResult {
  events: number;
  unrouted: number;
  hookKeys: number;
}

export type PutCabResult = { status: 'created' } | { status: 'updated' } | { status: 'qr_conflict'; qrCode: string; ownerCabId: string };

export interface TabletStatusUpdate {
  appVersion: string;
  rideState: RideStateName;
  outboxDepth: number;
}

export interface RelayStore {
  /**
   * Creates the cab with `tokenHash`, or updates it; an update replaces the token too unless
   * `keepToken` is set. QR codes are replaced as a whole.
   */
  putCab(cab: CabInput, tokenHash: string, nowIso: string, options?: { keepToken?: boolean }): Promise<PutCabResult>;
  getCab(cabId: string): Promise<CabRecord | null>;
  findCabByQrCode(qrCode: string): Promise<CabRecord | null>;
  /**
   * The route of the cab with this id or QR code, for the webhook hot path: served from memory
   * (every route loaded on first use); a cab's is read again after a putCab or deleteCab of it.
   */
  findRoute(by: { cabId: string } | { qrCode: string }): Promise<CabRoute | null>;
  listCabs(): Promise<CabRecord[]>;
  /** False when the cab does not exist. */
  setTokenHash(cabId: string, tokenHash: string): Promise<boolean>;
  /** Removes the cab with its events (their dedupe keys stay). False when it did not exist. */
  deleteCab(cabId: string): Promise<boolean>;
  markSeen(cabId: string, atIso: string, status?: TabletStatusUpdate): Promise<void>;

  /**
   * Whether a hook with this dedupe key was already stored (as a cab event or unrouted), even if
   * that event has since been pruned or deleted with its cab (see prune).
   */
  isKnownHook(psp: PspName, dedupeKey: string): Promise<boolean>;
  /**
   * Assigns the next seq and stores the event in one transaction; a known dedupe key (isKnownHook)
   * is a no-op. An order.paid event records its payment as paid (store/paid-payments.ts) in the
   * same transaction.
   */
  appendEvent(event: NewEvent, committedAtMs: number): Promise<{ status: 'stored'; event: StoredEvent } | { status: 'duplicate' }>;
  /** A verified hook that belongs to no registered cab, kept for reconciliation. */
  recordUnrouted(hook: UnroutedHook, atIso: string): Promise<'stored' | 'duplicate'>;
  eventsAfter(cabId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  markAcked(cabId: string, seq: number, atMs: number): Promise<void>;
  /** Everything up to `seq` counts as acked (the tablet says so in its handshake). */
  markAckedThrough(cabId: string, seq: number, atMs: number): Promise<void>;
  backlogByCab(): Promise<Map<string, number>>;
  /**
   * Removes acked events and unrouted records older than the cut-off (unacked events stay), and
   * hook dedupe keys first seen before `keysOlderThanMs` (default: the same cut-off) whose event
   * is gone. Keys outlive their events: a replay after the prune is still a duplicate.
   */
  prune(olderThanMs: number, keysOlderThanMs?: number): Promise<PruneResult>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
