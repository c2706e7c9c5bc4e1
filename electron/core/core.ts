/**
 * The kiosk core: wires the store, the ride machine, the outbox, the relay socket and the PSP.
 * Data flows one way: input (command, relay event, PSP answer, clock) → pure decision →
 * one SQLite transaction → snapshot rebuilt from the store → listeners.
 */
import pino, { type Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { jsonTerminalSafe } from '../../protocol/terminal-text.js';
import { kioskCommand, type DriverView, type KioskCommand, type KioskSnapshot } from '../../protocol/kiosk-api.js';
import {
  logStart,
  relayEvent,
  SOCKET_EVENTS,
  type LogStartAck,
  type OrderCreatedAck,
  type RelayEventAck,
  type TabletStatus,
} from '../../protocol/relay-protocol.js';
import { fail, ok, type Result } from '../../protocol/result.js';
import type { KioskConfig } from './config.js';
import type { DriverConfig } from './driver-config.js';
import { defaultExtras, readDriverSettings } from './driver-settings.js';
import { afterAttempt, describeWait, isLocked, verifyPin, type PinAttemptState } from './pin.js';
import { OrderReporter } from './order-reporter.js';
import { ReceiptPublisher } from './receipt-publisher.js';
import type { KioskCore } from './kiosk-core.js';
import {
  applyAttentionCommand,
  applyCommand,
  applyRefundCommand,
  applyRelayEvent,
  expireSessions,
  machineContext,
  prepareDelivery,
  settleDelivery,
} from './commit.js';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import type { BackoffLimits } from './backoff.js';
import { checkStoreInvariants } from './invariants.js';
import type { OutboxEntry } from './model.js';
import { OutboxWorker } from './outbox.js';
import { createHipsClient } from './psp/hips-client.js';
import type { DeliveryResult, PspClient } from './psp/psp-client.js';
import { createRelayPaymentClient } from './psp/relay-payment-client.js';
import { RelayClient, type RelayConnectivity } from './relay-client.js';
import { relayLinkSecurity } from './relay-link.js';
import { EventIntake } from './event-intake.js';
import { DEFAULT_PAYMENT_SILENCE_MS, paymentDeadline, type MachineContext } from './ride-machine.js';
import { ExpiryTimer } from './session-clock.js';
import { buildSnapshot } from './snapshot.js';
import { KioskStore } from './store.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

/** The relay keeps events for 7 days; our duplicate guard by id outlives that comfortably. */
const APPLIED_EVENTS_KEEP_MS = 30 * 24 * 3600 * 1000;

export interface KioskCoreOptions {
  now?: () => Date;
  logger?: Logger;
  random?: () => number;
  /** Replaces the create-order adapter (Hips) for PSPs the tablet calls itself (tests). */
  pspClient?: PspClient;
  /** Outbox retry waits (default 1 s base, 60 s cap); the chaos run shortens them. */
  backoff?: BackoffLimits;
  /** How long a created order may go without a payment event after its session's order deadline (default 20 min). */
  paymentSilenceMs?: number;
  /** PIN hash, location and receipt base URL from the kiosk config file (driver-config.ts). */
  driver?: DriverConfig;
}

/** How long one batch of relay events may hold the event loop before the rest waits a turn. */
export const EVENT_BATCH_BUDGET_MS = 15;

/** How long the driver settings stay open after the PIN, without a save or a lock. */
export const SETTINGS_UNLOCK_MS = 2 * 60_000;

export function createKioskCore(config: KioskConfig, options: KioskCoreOptions = {}): KioskCore {
  return new Core(config, options);
}

class Core implements KioskCore {
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly logger: Logger;
  private store: KioskStore | null = null;
  private outbox: OutboxWorker | null = null;
  private relay: RelayClient | null = null;
  private intake: EventIntake | null = null;
  private relayState: RelayConnectivity = 'connecting';
  private relayProblem: 'unauthorized' | null = null;
  private receipts: ReceiptPublisher | null = null;
  private orderReports: OrderReporter | null = null;
  /** Driver settings are open until this time (ms); kept in memory, so a restart locks them. */
  private unlockedUntil = 0;
  private relockTimer: NodeJS.Timeout | null = null;
  private lockoutTimer: NodeJS.Timeout | null = null;
  private readonly expiry = new ExpiryTimer(() => this.afterChange());
  private readonly listeners = new Set<(s: KioskSnapshot) => void>();
  private snapshot: KioskSnapshot | null = null;
  private lastStatus = '';
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: KioskConfig,
    private readonly options: KioskCoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    // What the relay sends can end up in a log line: nothing in it reaches a terminal raw.
    this.logger = options.logger ?? pino({ name: 'kiosk-core', level: process.env.LOG_LEVEL ?? 'info', hooks: { streamWrite: jsonTerminalSafe } });
  }

  async start(): Promise<void> {
    if (this.store) return;
    if (!this.config.dataDir)
      throw new Error('The kiosk config has no dataDir: set it to a writable directory for kiosk.db (Electron passes its userData path).');
    const link = relayLinkSecurity(this.config);
    if (!link.ok) throw new Error(`The kiosk config is invalid: ${link.error.message}`);
    if (link.value.insecure) this.logger.warn({ relayUrl: this.config.relayUrl }, 'plain HTTP to the relay (allowInsecureRelay): development only');
    // Made on first use: a cab whose PSP the relay pays through never calls a PSP itself.
    let psp: PspClient | null = this.options.pspClient ?? null;
    const relayPayments = createRelayPaymentClient(
      {
        request: (event, payload) => this.relay?.request(event, payload) ?? Promise.resolve({ ok: false, error: { code: 'offline', message: 'stopped' } }),
      },
      this.logger.child({ part: 'relay-payments' }),
    );
    const send = (entry: OutboxEntry, apiKey: string | null): Promise<DeliveryResult> => {
      switch (entry.kind) {
        case 'create_order':
          psp ??= this.hipsClient();
          return psp.createOrder(entry.job, apiKey ?? '');
        case 'payment_request':
          return relayPayments.requestPayment(entry.job);
        case 'refund':
          return relayPayments.requestRefund(entry.job);
      }
    };
    const store = KioskStore.open(this.config.dataDir);
    this.store = store;
    this.relayState = 'connecting';
    if (store.getSetting('locale') === null) store.setSetting('locale', this.config.locale);

    this.outbox = new OutboxWorker(
      store,
      {
        prepare: (entry) => this.prepareDelivery(entry),
        send,
        settle: (entry, result) => this.settleDelivery(entry, result),
        changed: () => this.afterChange(),
      },
      { now: this.now, random: this.random, ...(this.options.backoff ? { backoff: this.options.backoff } : {}) },
      this.logger.child({ part: 'outbox' }),
    );
    this.intake = new EventIntake({
      applyBatch: (raws) => this.applyEventBatch(raws),
      onFlood: () => this.relay?.dropConnection('it sent more events than a relay keeps in flight'),
      logger: this.logger.child({ part: 'relay-events' }),
    });
    this.relay = new RelayClient({
      relayUrl: this.config.relayUrl,
      tls: link.value.tls,
      cabId: this.config.cabId,
      deviceToken: this.config.deviceToken,
      lastSeq: () => this.store?.lastSeq() ?? 0,
      onEvent: (raw, ack) => this.intake?.push(raw, ack),
      onLogStart: (raw) => this.handleLogStart(raw),
      onConnectivity: (state, _detail, problem) => this.setConnectivity(state, problem ?? null),
      random: this.random,
      logger: this.logger.child({ part: 'relay' }),
    });

    this.receipts = new ReceiptPublisher({
      store: () => this.store,
      connected: () => this.relay?.connected ?? false,
      send: (payload) => this.relay?.publishReceipt(payload) ?? Promise.resolve({ ok: false, error: { code: 'offline', message: 'stopped' } }),
      now: this.now,
      random: this.random,
      logger: this.logger.child({ part: 'receipts' }),
    });

    this.orderReports = new OrderReporter({
      store: () => this.store,
      connected: () => this.relay?.connected ?? false,
      send: (payload) =>
        (this.relay?.request(SOCKET_EVENTS.orderCreated, payload) ??
          Promise.resolve({ ok: false, error: { code: 'offline', message: 'stopped' } })) as Promise<OrderCreatedAck>,
      psp: this.config.psp,
      now: this.now,
      random: this.random,
      logger: this.logger.child({ part: 'order-reports' }),
    });

    this.logger.info({ dataDir: this.config.dataDir, lastSeq: store.lastSeq(), outboxDepth: store.outboxDepth() }, 'kiosk core resumed from its store');
    const pruned = store.pruneAppliedEvents(new Date(this.now().getTime() - APPLIED_EVENTS_KEEP_MS).toISOString());
    if (pruned > 0) this.logger.info({ pruned }, 'pruned old applied-event records');
    const problems = checkStoreInvariants(store, PSP_CAPABILITIES[this.config.psp]);
    if (problems.length > 0) this.logger.error({ problems }, 'the kiosk store is inconsistent; report this with kiosk.db attached');
    this.armLockoutEnd(store);
    this.afterChange();
    this.outbox.start();
    this.relay.start();
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutDown().finally(() => (this.stopping = null));
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    const store = this.store;
    if (!store) return;
    this.relay?.stop();
    this.intake?.stop();
    this.intake = null;
    this.receipts?.stop();
    this.receipts = null;
    this.orderReports?.stop();
    this.orderReports = null;
    if (this.relockTimer) clearTimeout(this.relockTimer);
    if (this.lockoutTimer) clearTimeout(this.lockoutTimer);
    this.lockoutTimer = null;
    await this.outbox?.stop();
    // The relay stops seeing us now; after a restart the screen shows how long we were away.
    if (store.getSetting('offlineSince') === null) store.setSetting('offlineSince', this.now().toISOString());
    this.expiry.clear();
    this.relay = null;
    this.outbox = null;
    this.store = null;
    store.close();
  }

  async execute(command: KioskCommand): Promise<Result<null>> {
    const newId = uuidv7(); // a new ride's (or refund's) id, before any I/O, so it is known even if the process dies next
    const parsed = kioskCommand.safeParse(command);
    if (!parsed.success) return fail('invalid_command', `The command was not understood: ${zodIssuesText(parsed.error, { root: 'command' })}`);
    const store = this.store;
    if (!store) return fail('not_started', 'The kiosk is still starting. Try again in a moment.');
    const gate = this.settingsGate(store, parsed.data);
    if (gate) {
      this.publish();
      return gate;
    }
    try {
      const now = this.now().toISOString();
      const command = parsed.data;
      // A ride from the rides that need attention is not the one on screen.
      const offScreen =
        command.name === 'markRideSeen' ||
        (command.name === 'markPaidOtherwise' && command.rideId !== undefined && command.rideId !== store.getSetting('screenRideId'));
      const decision =
        command.name === 'refundRide'
          ? applyRefundCommand(store, command, {
              now,
              psp: this.config.psp,
              refundId: newId,
              requestedBy: readDriverSettings(store, this.config.currency).driverId ?? 'driver',
            })
          : offScreen && (command.name === 'markRideSeen' || command.name === 'markPaidOtherwise')
            ? applyAttentionCommand(store, command, now, this.config.psp)
            : applyCommand(store, this.context(store), command, newId);
      if (!decision.ok) return decision;
      this.logger.info({ command: parsed.data.name, rideId: store.getSetting('screenRideId') }, 'command applied');
    } catch (err) {
      this.logger.error({ err, command: parsed.data.name }, 'command failed to commit');
      return fail('storage_error', 'The kiosk could not save this change. Try again; restart the kiosk if it keeps happening.');
    }
    this.afterChange();
    return ok(null);
  }

  /**
   * The PIN lock around the driver settings. Returns the answer for lock commands and for a
   * save while locked; null lets the command through to the ride machine.
   */
  private settingsGate(store: KioskStore, command: KioskCommand): Result<null> | null {
    const now = this.now();
    if (command.name === 'lockSettings') {
      this.relock();
      return ok(null);
    }
    if (command.name === 'saveDriverSettings' || command.name === 'refundRide') {
      if (now.getTime() >= this.unlockedUntil) return fail('settings_locked', 'The driver settings are locked. Enter the PIN first.');
      return null;
    }
    if (command.name !== 'unlockSettings') return null;
    const hash = this.options.driver?.driverPinHash;
    if (!hash) return fail('pin_not_configured', 'No driver PIN is set for this cab. Ask the fleet to add driverPinHash to the kiosk config.');
    const attempts = this.pinAttempts(store);
    if (isLocked(attempts, now))
      return fail(
        'pin_locked_out',
        `Too many wrong PINs. Try again in ${describeWait(Date.parse(attempts.lockedUntil!) - now.getTime())} (at ${attempts.lockedUntil}).`,
      );
    const right = verifyPin(command.pin, hash);
    const next = afterAttempt(attempts, right, now);
    store.transaction(() => {
      store.setSetting('pinFailures', String(next.failures));
      store.setSetting('pinLockedUntil', next.lockedUntil);
    });
    if (!right) {
      this.logger.warn({ failures: next.failures, lockedUntil: next.lockedUntil }, 'wrong driver PIN');
      if (!next.lockedUntil) return fail('pin_wrong', 'Wrong PIN. Try again.');
      this.armLockoutEnd(store);
      return fail(
        'pin_locked_out',
        `Too many wrong PINs. The settings are locked for ${describeWait(Date.parse(next.lockedUntil) - now.getTime())} (until ${next.lockedUntil}).`,
      );
    }
    this.unlockedUntil = now.getTime() + SETTINGS_UNLOCK_MS;
    if (this.relockTimer) clearTimeout(this.relockTimer);
    this.relockTimer = setTimeout(() => this.relock(), SETTINGS_UNLOCK_MS);
    this.relockTimer.unref?.();
    return ok(null);
  }

  /** The screen shows the lockout while it lasts: publish again when it ends. */
  private armLockoutEnd(store: KioskStore): void {
    if (this.lockoutTimer) clearTimeout(this.lockoutTimer);
    this.lockoutTimer = null;
    const until = this.pinAttempts(store).lockedUntil;
    const waitMs = until ? Date.parse(until) - this.now().getTime() : 0;
    if (!(waitMs > 0)) return;
    // A few ms late rather than early, so the lock has ended when the snapshot is built.
    this.lockoutTimer = setTimeout(
      () => {
        this.lockoutTimer = null;
        this.publish();
      },
      Math.min(waitMs + 5, 2 ** 31 - 1),
    );
    this.lockoutTimer.unref?.();
  }

  private relock(): void {
    this.unlockedUntil = 0;
    if (this.relockTimer) clearTimeout(this.relockTimer);
    this.relockTimer = null;
    this.publish();
  }

  private pinAttempts(store: KioskStore): PinAttemptState {
    return { failures: Number(store.getSetting('pinFailures') ?? '0') || 0, lockedUntil: store.getSetting('pinLockedUntil') };
  }

  private driverView(store: KioskStore): DriverView {
    const settings = readDriverSettings(store, this.config.currency);
    const now = this.now();
    const attempts = this.pinAttempts(store);
    const state: DriverView['settings'] = !this.options.driver?.driverPinHash
      ? 'unavailable'
      : now.getTime() < this.unlockedUntil
        ? 'unlocked'
        : isLocked(attempts, now)
          ? 'locked_out'
          : 'locked';
    return {
      locale: settings.locale,
      brightness: settings.brightness,
      driverId: settings.driverId,
      settings: state,
      lockedUntil: state === 'locked_out' ? attempts.lockedUntil : null,
    };
  }

  getState(): KioskSnapshot {
    if (this.snapshot) return this.snapshot;
    return {
      cab: {
        cabId: this.config.cabId,
        plate: this.config.plate,
        label: this.config.label ?? this.config.cabId,
        psp: this.config.psp,
        qrContent: this.config.qrContent,
        capabilities: PSP_CAPABILITIES[this.config.psp],
      },
      locale: this.config.locale,
      theme: 'auto',
      currency: this.config.currency,
      connectivity: { relay: this.relayState, offlineSince: null, problem: this.relayProblem },
      outboxDepth: 0,
      pendingRides: 0,
      ridesNeedingAttention: [],
      ride: null,
      session: null,
      payment: null,
      recentPayments: [],
      driver: { locale: null, brightness: 80, driverId: null, settings: 'locked', lockedUntil: null },
      extras: defaultExtras(this.config.currency),
      location: this.location(),
    };
  }

  onState(listener: (snapshot: KioskSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- inputs ---------------------------------------------------------------------------

  /**
   * Applies the first relay events of `raws` in one transaction, for at most
   * EVENT_BATCH_BUDGET_MS, and returns an answer for each one taken (null: leave it unacked).
   * The answers go out only after the commit.
   */
  private applyEventBatch(raws: unknown[]): (RelayEventAck | null)[] {
    const store = this.store;
    if (!store) return [];
    const started = performance.now();
    const answers: (RelayEventAck | null)[] = [];
    let changed = false;
    try {
      store.transaction(() => {
        for (const raw of raws) {
          if (answers.length > 0 && performance.now() - started > EVENT_BATCH_BUDGET_MS) break;
          const outcome = this.decideRelayEvent(store, raw);
          answers.push(outcome.answer);
          changed ||= outcome.changed;
        }
      });
    } catch (err) {
      this.logger.error({ err, events: answers.length }, 'relay events failed to commit; leaving them unacked for redelivery');
      return answers.map(() => null);
    }
    if (changed) this.afterChange();
    return answers;
  }

  /** One relay event inside the batch's transaction: its answer, and whether the store changed. */
  private decideRelayEvent(store: KioskStore, raw: unknown): { answer: RelayEventAck | null; changed: boolean } {
    const parsed = relayEvent.safeParse(raw);
    if (!parsed.success) {
      const problems = zodIssuesText(parsed.error);
      this.logger.error({ problems }, 'invalid relay event refused');
      return { answer: fail('invalid_event', `The tablet could not read this event (${problems}).`), changed: false };
    }
    const event = parsed.data;
    const log = this.logger.child({ eventId: event.id, seq: event.seq, type: event.type });
    const lastSeq = store.lastSeq();
    const known = store.appliedEvent(event.id);
    // A known event gets the answer it got the first time: a refusal stays a refusal.
    const again = (): RelayEventAck => (known?.rejection ? fail('rejected', known.rejection) : ok({ applied: false }));
    if (event.seq <= lastSeq) {
      if (known) log.debug({ lastSeq }, 'duplicate relay event acked without effect');
      else log.warn({ lastSeq }, 'relay event with an old seq but a new id, ignored: was the relay database reset? Re-provision this cab');
      return { answer: again(), changed: false };
    }
    if (event.seq !== lastSeq + 1) {
      log.warn({ lastSeq }, 'gap in relay events; leaving unacked so the relay redelivers in order');
      return { answer: null, changed: false };
    }
    try {
      if (known) {
        // The relay sent an event it already delivered under a new seq: a duplicate, but delivery must move on.
        store.transaction(() => store.recordRepeatedEvent(event.id, event.seq));
        log.warn({ firstSeq: known.seq }, 'relay event id seen before under another seq; acked as a duplicate');
        return { answer: again(), changed: true };
      }
      const result = applyRelayEvent(store, this.context(store), event);
      if (result.rejected) {
        log.warn({ reason: result.rejected }, 'relay event refused: it does not match this tablet’s records');
        return { answer: fail('rejected', result.rejected), changed: true };
      }
      log.info({ applied: result.applied, ...(result.note ? { note: result.note } : {}) }, 'relay event applied');
      return { answer: ok({ applied: result.applied }), changed: true };
    } catch (err) {
      // Only this event's savepoint is rolled back; the ones after it are gaps now.
      log.error({ err }, 'relay event failed to commit; leaving unacked for redelivery');
      return { answer: null, changed: false };
    }
  }

  /**
   * The relay no longer holds the events before `firstSeq` (an earlier install of this cab
   * acked them and they were pruned): wait for `firstSeq` next instead of for them.
   */
  private handleLogStart(raw: unknown): LogStartAck {
    const store = this.store;
    if (!store) return fail('stopped', 'the kiosk is stopping; the relay sends log.start again with the event');
    const parsed = logStart.safeParse(raw);
    if (!parsed.success) {
      const problems = zodIssuesText(parsed.error);
      this.logger.error({ problems }, 'invalid log.start refused');
      return fail('invalid_log_start', `The tablet could not read log.start (${problems}).`);
    }
    const { firstSeq } = parsed.data;
    const before = store.lastSeq();
    let lastSeq: number;
    try {
      lastSeq = store.raiseLastSeq(firstSeq - 1);
    } catch (err) {
      this.logger.error({ err, firstSeq }, 'could not store where the relay log starts; the relay sends it again');
      return fail('unavailable', 'log.start not stored; send it again');
    }
    if (lastSeq !== before) {
      this.logger.warn(
        { lastSeq: before, firstSeq },
        'the relay no longer holds the events before firstSeq (acked by an earlier install of this cab, then pruned); continuing from firstSeq',
      );
    }
    return ok({ lastSeq });
  }

  private setConnectivity(state: RelayConnectivity, problem: 'unauthorized' | null = null): void {
    const store = this.store;
    if (!store) return;
    this.relayState = state;
    // 'connecting' keeps what we know; a connect or another error replaces it.
    if (state !== 'connecting') this.relayProblem = state === 'online' ? null : problem;
    if (state === 'online') {
      this.receipts?.kick();
      this.orderReports?.kick();
      store.setSetting('offlineSince', null);
      this.lastStatus = ''; // the relay wants our status on every connect
      this.outbox?.kick(true);
    } else if (state === 'offline' && store.getSetting('offlineSince') === null) {
      store.setSetting('offlineSince', this.now().toISOString());
    }
    this.publish();
  }

  private prepareDelivery(entry: OutboxEntry): { apiKey: string | null } | null {
    const prepared = prepareDelivery(this.store!, entry, this.now().toISOString(), this.config.psp);
    if (prepared.kind === 'send') return { apiKey: prepared.apiKey };
    if (prepared.reason === 'session_over') this.logger.warn({ rideId: entry.rideId, kind: entry.kind }, 'payment not sent: the passenger session is over');
    return null;
  }

  private settleDelivery(entry: OutboxEntry, result: Exclude<DeliveryResult, { kind: 'retry' }>): void {
    settleDelivery(this.store!, entry, result, this.now().toISOString(), this.config.psp);
  }

  // ---- state out ------------------------------------------------------------------------

  /** After any commit: expire due sessions, re-arm the clock, push the snapshot and status. */
  private afterChange(): void {
    const store = this.store;
    if (!store) return;
    const now = this.now();
    try {
      const silenceMs = this.options.paymentSilenceMs ?? DEFAULT_PAYMENT_SILENCE_MS;
      const expired = expireSessions(store, this.context(store), silenceMs);
      if (expired > 0) this.logger.info({ effects: expired }, 'passenger sessions expired or payments unconfirmed');
      const confirmations = store.listRidesAwaitingConfirmation().flatMap((ride) => {
        const session = ride.sessionId ? store.getSession(ride.sessionId) : null;
        const deadline = paymentDeadline(ride, session, silenceMs);
        return deadline === null ? [] : [new Date(deadline).toISOString()];
      });
      this.expiry.arm(
        [store.nextSessionExpiry(now.toISOString()), ...confirmations].filter((e): e is string => e !== null && Date.parse(e) > now.getTime()),
        now.getTime(),
      );
    } catch (err) {
      this.logger.error({ err }, 'session expiry check failed');
    }
    if (store.outboxDepth() > 0) this.outbox?.kick();
    this.receipts?.kick();
    this.orderReports?.kick();
    this.publish();
  }

  private publish(): void {
    const store = this.store;
    if (!store) return;
    const snapshot = buildSnapshot(store, this.config, this.relayState, this.now(), {
      problem: this.relayProblem,
      driver: this.driverView(store),
      location: this.location(),
      receiptBaseUrl: this.options.driver?.receiptBaseUrl ?? this.config.relayUrl,
    });
    this.snapshot = snapshot;
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (err) {
        this.logger.error({ err }, 'a state listener threw');
      }
    }
    const status: TabletStatus = {
      appVersion: this.config.appVersion,
      rideState: snapshot.ride?.state ?? 'idle',
      outboxDepth: snapshot.outboxDepth,
    };
    const key = JSON.stringify(status);
    if (key !== this.lastStatus && this.relay?.connected) {
      this.lastStatus = key;
      this.relay.sendStatus(status);
    }
  }

  // ---- helpers --------------------------------------------------------------------------

  private context(store: KioskStore): MachineContext {
    return machineContext(store, this.config, this.now().toISOString(), this.outbox?.inFlightRideId ?? null);
  }

  private location(): KioskSnapshot['location'] {
    const d = this.options.driver;
    return d?.latitude !== undefined && d.longitude !== undefined ? { latitude: d.latitude, longitude: d.longitude } : null;
  }

  /** The create-order adapter for PSPs the tablet calls itself (capabilities.relayMakesPayment false). */
  private hipsClient(): PspClient {
    return createHipsClient({
      pspUrl: this.config.pspUrl,
      webhookUrl: this.config.orderWebhookUrl ?? `${this.config.relayUrl.replace(/\/+$/, '')}/webhooks/hips/orders`,
      logger: this.logger.child({ part: 'hips' }),
    });
  }
}
