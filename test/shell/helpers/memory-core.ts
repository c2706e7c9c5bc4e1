/**
 * A small in-memory KioskCore for the shell tests: enough ride logic to see commands change
 * the snapshot, and a record of every command it ran.
 */
import type { KioskCore } from '../../../electron/core/kiosk-core.js';
import { kioskCommand, type KioskCommand, type KioskSnapshot } from '../../../protocol/kiosk-api.js';
import { PSP_CAPABILITIES } from '../../../protocol/psp-capabilities.js';
import { fail, ok, type Result } from '../../../protocol/result.js';
import { idleSnapshot } from '../../../scripts/lib/renderer-fixtures.js';

/** The renderer tests' idle snapshot, as cab 7 in Swedish. */
export function baseSnapshot(overrides: Partial<KioskSnapshot> = {}): KioskSnapshot {
  return idleSnapshot({
    cab: { cabId: 'cab-7', plate: 'ABC123', label: 'Cab 7', psp: 'hips', qrContent: 'https://qr.example/cab-7', capabilities: PSP_CAPABILITIES.hips },
    locale: 'sv',
    ...overrides,
  });
}

export class MemoryCore implements KioskCore {
  readonly executed: KioskCommand[] = [];
  started = false;
  stopped = false;
  private snapshot = baseSnapshot();
  private readonly listeners = new Set<(s: KioskSnapshot) => void>();

  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  getState(): KioskSnapshot {
    return this.snapshot;
  }
  onState(listener: (s: KioskSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  listenerCount(): number {
    return this.listeners.size;
  }

  async execute(command: KioskCommand): Promise<Result<null>> {
    const parsed = kioskCommand.safeParse(command);
    if (!parsed.success) return fail('bad_command', parsed.error.message);
    this.executed.push(parsed.data);
    const c = parsed.data;
    switch (c.name) {
      case 'startRide':
        if (this.snapshot.ride) return fail('ride_in_progress', 'End or cancel the current ride first.');
        this.publish({
          ride: {
            rideId: 'r1',
            merchantOrderId: 'cab-7.r1',
            state: 'on_ride',
            startedAt: new Date().toISOString(),
            endedAt: null,
            lines: [],
            orderAmount: 0,
            currency: 'SEK',
            order: 'none',
            tipAmount: null,
            paymentQr: null,
            failure: null,
            refusedEvent: null,
          },
        });
        return ok(null);
      case 'cancelRide':
        if (!this.snapshot.ride) return fail('no_ride', 'There is no ride to cancel.');
        this.publish({ ride: null });
        return ok(null);
      case 'setLocale':
        this.publish({ locale: c.locale });
        return ok(null);
      case 'setTheme':
        this.publish({ theme: c.theme });
        return ok(null);
      case 'removeExtra':
        if (c.lineId === 'explode') throw new Error('boom');
        return ok(null);
      default:
        return ok(null);
    }
  }

  /** Changes the snapshot and tells every listener, as the real core does. */
  publish(change: Partial<KioskSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener(this.snapshot);
  }
}
