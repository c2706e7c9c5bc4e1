/** Turns a ride's planned faults into actions on the stack when the ride reaches each step. */
import type { PspFault, RidePlan, Step } from './plan.js';
import { CHAOS_TIMERS, http, type Cab, type ChaosStack } from './stack.js';

export interface FaultCounts {
  offlineWindows: number;
  kioskKills: number;
  relayKills: number;
  pspFaults: number;
  webhookFaults: number;
  /** Refunds and captures answered only after the relay's PSP timeout (the call booked at once). */
  lateAnswers: number;
}

/**
 * Relay kills at least this far apart: the PSPs retry a hook for about 23 s, so back-to-back kills
 * (cabs of different PSPs run at different speeds, so their kill points can bunch up) would make a
 * PSP give up on a hook — a fault beyond what the design claims to survive (docs/chaos.md).
 */
export const RELAY_KILL_SPACING_MS = 45_000;

export class FaultInjector {
  readonly counts: FaultCounts = { offlineWindows: 0, kioskKills: 0, relayKills: 0, pspFaults: 0, webhookFaults: 0, lateAnswers: 0 };
  private relayCrash: Promise<void> | null = null;
  private lastRelayCrashAt = 0;
  /** Planned relay kills skipped because the previous one was too recent. */
  relayKillsSkipped = 0;
  /** Offline windows still open, so the drain phase can close them. */
  private readonly openWindows = new Set<NodeJS.Timeout>();

  constructor(private readonly stack: ChaosStack) {}

  /** The fault controls of the cab's PSP in the sandbox (each PSP has its own). */
  private sandboxFaults(body: Record<string, unknown>, psp: Cab['psp'] = 'hips'): Promise<unknown> {
    const path = psp === 'hips' ? '/sandbox/faults' : `/sandbox/${psp}/faults`;
    return http('POST', `${this.stack.sandboxUrl}${path}`, body);
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
      if (Date.now() - this.lastRelayCrashAt < RELAY_KILL_SPACING_MS) this.relayKillsSkipped++;
      else {
        this.counts.relayKills++;
        this.relayCrash = this.stack.crashRelay().finally(() => {
          this.relayCrash = null;
          this.lastRelayCrashAt = Date.now(); // counted from the restart: start-up is slow on a loaded machine
        });
        this.lastRelayCrashAt = Date.now();
      }
    }
    if (step === 'end' && plan.pspFault) {
      this.counts.pspFaults++;
      await this.sandboxFaults(createFault(cab.psp, plan.pspFault.kind, plan.pspFault.count), cab.psp);
    }
    // Vipps captures once the passenger approves: this ride's (or a neighbour's) is answered late.
    if (step === 'pay' && plan.lateAnswer && cab.psp === 'vipps') await this.lateAnswer('capture', cab.psp);
    if (step === 'pay' && plan.webhookFault) {
      this.counts.webhookFaults++;
      // Vipps and HitPay have no reorder fault: a duplicate instead.
      const kind = plan.webhookFault === 'reorder' && cab.psp !== 'hips' ? 'duplicate' : plan.webhookFault;
      if (kind === 'duplicate') await this.sandboxFaults({ duplicateWebhooks: 2 }, cab.psp);
      else if (kind === 'reorder') await this.sandboxFaults({ reorderWebhooks: 1 });
      else if (kind === 'fail') await this.sandboxFaults({ failWebhooks: 1 }, cab.psp);
      else {
        await this.sandboxFaults({ webhookDelayMs: 1_500 }, cab.psp);
        setTimeout(() => void this.sandboxFaults({ webhookDelayMs: 0 }, cab.psp).catch(() => {}), 3_000);
      }
    }
  }

  /**
   * The next refund or capture at the cab's PSP is booked at once but answered after the relay's
   * PSP timeout, so the relay must look up what happened instead of calling again.
   */
  async lateAnswer(call: 'refund' | 'capture', psp: Cab['psp']): Promise<void> {
    this.counts.lateAnswers++;
    await this.sandboxFaults({ [call === 'refund' ? 'lateRefunds' : 'lateCaptures']: 1, lateAnswerMs: CHAOS_TIMERS.sandboxLateAnswerMs }, psp);
  }

  /** Ends every offline window and waits for a relay restart under way. */
  async settle(): Promise<void> {
    for (const timer of this.openWindows) clearTimeout(timer);
    this.openWindows.clear();
    for (const cab of this.stack.cabs) cab.setOffline(false);
    await this.relayCrash;
  }
}

/**
 * A burst of failures on the next create calls of the cab's PSP: the tablet's create-order (Hips),
 * the relay's create-payment (Vipps) or create-payment-request (HitPay). 429 is Hips-only; the
 * others get a 500. A hang answers late (the order is made) or drops the socket (nothing is made).
 */
function createFault(psp: Cab['psp'], kind: PspFault, count: number): Record<string, unknown> {
  const hang = kind === 'timeout_process' || kind === 'timeout_drop';
  const afterHang = kind === 'timeout_process' ? 'process' : 'drop';
  if (psp === 'hips') {
    if (kind === 'createOrder503') return { createOrder503: count };
    if (kind === 'createOrder429') return { createOrder429: count };
    return { createOrderTimeout: count, createOrderHangMs: CHAOS_TIMERS.sandboxHangMs, createOrderAfterHang: afterHang };
  }
  const op = psp === 'vipps' ? 'createPayment' : 'createRequest';
  if (hang) return { [`${op}Timeout`]: count, [`${op}HangMs`]: CHAOS_TIMERS.sandboxHangMs, [`${op}AfterHang`]: afterHang };
  return { [`${op}${kind === 'createOrder503' ? '503' : '500'}`]: count };
}
