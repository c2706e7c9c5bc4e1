/**
 * What must hold in the kiosk store after every commit, and so after a crash at any moment.
 * The core checks it at start (and logs what is off); the crash tests check it after SIGKILL.
 */
import { PSP_CAPABILITIES, type PspCapabilities } from '../../protocol/psp-capabilities.js';
import { idempotencyKeyFor, refundIdempotencyKey } from './model.js';
import type { KioskStore } from './store.js';

type Row = Record<string, unknown>;

/** `capabilities`: the cab's PSP (Hips when not given): whether a ride awaiting payment needs a session. */
export function checkStoreInvariants(store: KioskStore, capabilities: PspCapabilities = PSP_CAPABILITIES.hips): string[] {
  const db = store.db;
  const problems: string[] = [];
  const rides = new Map(
    (db.prepare('SELECT ride_id, state, order_status, attempt, session_id FROM rides').all() as Row[]).map((r) => [r.ride_id as string, r]),
  );

  const allOutbox = db.prepare('SELECT id, ride_id, kind, idempotency_key FROM outbox').all() as Row[];
  const outbox = allOutbox.filter((e) => e.kind !== 'refund');
  const queuedByRide = new Map<string, number>();
  for (const entry of outbox) {
    const ride = rides.get(entry.ride_id as string);
    queuedByRide.set(entry.ride_id as string, (queuedByRide.get(entry.ride_id as string) ?? 0) + 1);
    if (!ride) problems.push(`outbox entry ${entry.id} belongs to no ride`);
    else if (ride.state !== 'awaiting_payment' || ride.order_status !== 'queued')
      problems.push(`outbox entry ${entry.id} for ride ${ride.ride_id} in state ${ride.state}/${ride.order_status}`);
    else if (entry.idempotency_key !== idempotencyKeyFor(ride.ride_id as string, ride.attempt as number))
      problems.push(`outbox entry ${entry.id} has key ${entry.idempotency_key}, ride is at attempt ${ride.attempt}`);
  }
  for (const ride of rides.values()) {
    const queued = queuedByRide.get(ride.ride_id as string) ?? 0;
    if (ride.state === 'awaiting_payment' && ride.order_status === 'queued' && queued !== 1)
      problems.push(`ride ${ride.ride_id} is queued with ${queued} outbox entries`);
    if (capabilities.needsScanSession && ride.state === 'awaiting_payment' && !ride.session_id)
      problems.push(`ride ${ride.ride_id} awaits payment without a session`);
  }

  const payments = new Set((db.prepare('SELECT ride_id FROM payments').all() as Row[]).map((r) => r.ride_id as string));
  for (const ride of rides.values()) {
    if (ride.state === 'paid' && !payments.has(ride.ride_id as string)) problems.push(`ride ${ride.ride_id} is paid without a payment record`);
  }
  for (const rideId of payments) {
    if (rides.get(rideId)?.state !== 'paid') problems.push(`payment for ride ${rideId}, which is not paid`);
  }

  // Refunds: never more than was paid; a queued refund has exactly one job, and every job a queued refund.
  for (const p of db.prepare('SELECT ride_id, method, total_amount, refunded_amount FROM payments').all() as Row[]) {
    if ((p.refunded_amount as number) > (p.total_amount as number))
      problems.push(`ride ${p.ride_id} has ${p.refunded_amount} refunded of ${p.total_amount} paid`);
  }
  const refunds = db.prepare(`SELECT refund_id, ride_id, state FROM refunds`).all() as Row[];
  const refundJobs = new Map(allOutbox.filter((e) => e.kind === 'refund').map((e) => [e.idempotency_key as string, e]));
  for (const r of refunds) {
    const key = refundIdempotencyKey(r.refund_id as string);
    if (!payments.has(r.ride_id as string)) problems.push(`refund ${r.refund_id} belongs to no paid ride`);
    if (r.state === 'queued' && !refundJobs.has(key)) problems.push(`refund ${r.refund_id} is queued without an outbox entry`);
    refundJobs.delete(key);
    if (r.state !== 'queued' && allOutbox.some((e) => e.idempotency_key === key)) problems.push(`refund ${r.refund_id} is ${r.state} but still in the outbox`);
  }
  for (const job of refundJobs.values()) problems.push(`outbox entry ${job.id} is a refund this tablet has no record of`);

  const seqs = (db.prepare('SELECT seq FROM applied_events ORDER BY seq').all() as Row[]).map((r) => r.seq as number);
  const lastSeq = store.lastSeq();
  const maxSeq = seqs.at(-1) ?? 0;
  // A log.start raises lastSeq past the applied events (their part of the relay's log was pruned).
  const raisedByLogStart = maxSeq < lastSeq && String(lastSeq) === store.getSetting('logStartFloor');
  if (maxSeq !== lastSeq && !raisedByLogStart) problems.push(`lastSeq is ${lastSeq} but the last applied event has seq ${maxSeq}`);
  if (new Set(seqs).size !== seqs.length) problems.push('two applied events share a seq');

  const sessionsInUse = db.prepare(`SELECT session_id, ride_id FROM sessions WHERE state = 'in_use'`).all() as Row[];
  for (const s of sessionsInUse) {
    if (!s.ride_id || !rides.has(s.ride_id as string)) problems.push(`session ${s.session_id} is in use by no ride`);
  }

  for (const key of ['screenRideId'] as const) {
    const id = store.getSetting(key);
    if (id && !rides.has(id)) problems.push(`${key} points to missing ride ${id}`);
  }
  const currentSession = store.getSetting('currentSessionId');
  if (currentSession && !store.getSession(currentSession)) problems.push(`currentSessionId points to missing session ${currentSession}`);
  return problems;
}
