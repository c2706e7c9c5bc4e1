/** Turns a ride's planned faults into actions on the stack when the ride reaches each step. */
import type { RidePlan, Step } from './plan.js';
import { CHAOS_TIMERS, http, type Cab, type ChaosStack } from './stack.js';

export interface FaultCounts {
  offlineWindows: number;
  kioskKills: number;
  relayKills: number;
  pspFaults: number;
  webhookFaults: number;
}

export class FaultInjector {
  readonly counts: FaultCounts = { offlineWindows: 0, kioskKills: 0, relayKills: 0, pspFaults: 0, webhookFaults: 0 };
  private relayCrash: Promise<void> | null = null;
  /** Offline windows still open, so the drain phase can close them. */
  private readonly openWindows = new Set<NodeJS.Timeout>();

  constructor(private readonly stack: ChaosStack) {}

  private sandboxFaults(body: Record<string, unknown>): Promise<unknown> {
    return http('POST', `${this.stack.sandboxUrl}/sandbox/faults`, body);
  }

  async at(step: Step, plan: RidePlan, cab: Cab): Promise<void> {
    if (plan.offline?.at === step) {
      this.counts.offlineWindows++;
      cab.setOffline(true);
      const timer = setTimeout(() => {
        this.openWindows.delete(timer);
        cab.setOffline(false);
      }, plan.offline.ms);
      this.openWindows.add(timer);
    }
    if (plan.crashAt === step) {
      this.counts.kioskKills++;
      await cab.kiosk.crash();
      void cab.kiosk.start().catch(() => {}); // the next command waits for it anyway
    }
    if (plan.relayCrashAt === step && !this.relayCrash) {
      this.counts.relayKills++;
      this.relayCrash = this.stack.crashRelay().finally(() => (this.relayCrash = null));
    }
    if (step === 'end' && plan.pspFault) {
      this.counts.pspFaults++;
      const { kind, count } = plan.pspFault;
      await this.sandboxFaults(
        kind === 'createOrder503'
          ? { createOrder503: count }
          : kind === 'createOrder429'
            ? { createOrder429: count }
            : {
                createOrderTimeout: count,
                createOrderHangMs: CHAOS_TIMERS.sandboxHangMs,
                createOrderAfterHang: kind === 'timeout_process' ? 'process' : 'drop',
              },
      );
    }
    if (step === 'pay' && plan.webhookFault) {
      this.counts.webhookFaults++;
      const kind = plan.webhookFault;
      if (kind === 'duplicate') await this.sandboxFaults({ duplicateWebhooks: 2 });
      else if (kind === 'reorder') await this.sandboxFaults({ reorderWebhooks: 1 });
      else if (kind === 'fail') await this.sandboxFaults({ failWebhooks: 1 });
      else {
        await this.sandboxFaults({ webhookDelayMs: 1_500 });
        setTimeout(() => void this.sandboxFaults({ webhookDelayMs: 0 }).catch(() => {}), 3_000);
      }
    }
  }

  /** Ends every offline window and waits for a relay restart under way. */
  async settle(): Promise<void> {
    for (const timer of this.openWindows) clearTimeout(timer);
    this.openWindows.clear();
    for (const cab of this.stack.cabs) cab.setOffline(false);
    await this.relayCrash;
  }
}
