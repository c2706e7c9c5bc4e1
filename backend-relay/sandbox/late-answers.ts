/**
 * The late-answer fault, the same for Hips, Vipps and HitPay: the next refunds or captures are
 * booked at once but answered only after `lateAnswerMs`, later than the relay waits (its
 * RELAY_PSP_TIMEOUT_MS). The relay then does not know the outcome and must look it up rather
 * than call again. `lateAnswersPercent` picks each refund or capture with that chance instead.
 * In memory, like the other faults.
 */
import { z } from 'zod';

const DEFAULT_LATE_MS = 15_000;

export const lateAnswersRequest = {
  /** The next n refund calls are booked, then answered after lateAnswerMs. */
  lateRefunds: z.number().int().min(0).max(1000).optional(),
  /** The next n capture calls are booked, then answered after lateAnswerMs (Vipps). */
  lateCaptures: z.number().int().min(0).max(1000).optional(),
  /** Each refund and capture is answered late with this chance, in percent (0 turns it off). */
  lateAnswersPercent: z.number().min(0).max(100).optional(),
  /** How late (default 15 s). */
  lateAnswerMs: z.number().int().min(0).max(600_000).optional(),
};

export type LateCall = 'refund' | 'capture';

export class LateAnswers {
  private refunds = 0;
  private captures = 0;
  private percent = 0;
  private ms = DEFAULT_LATE_MS;
  private answeredLate = 0;

  constructor(private readonly random: () => number = Math.random) {}

  add(req: { lateRefunds?: number; lateCaptures?: number; lateAnswersPercent?: number; lateAnswerMs?: number }): void {
    this.refunds += req.lateRefunds ?? 0;
    this.captures += req.lateCaptures ?? 0;
    if (req.lateAnswersPercent !== undefined) this.percent = req.lateAnswersPercent;
    if (req.lateAnswerMs !== undefined) this.ms = req.lateAnswerMs;
  }

  clear(): void {
    this.refunds = 0;
    this.captures = 0;
    this.percent = 0;
    this.ms = DEFAULT_LATE_MS;
  }

  snapshot(): { lateRefunds: number; lateCaptures: number; lateAnswersPercent: number; lateAnswerMs: number; answeredLate: number } {
    return { lateRefunds: this.refunds, lateCaptures: this.captures, lateAnswersPercent: this.percent, lateAnswerMs: this.ms, answeredLate: this.answeredLate };
  }

  /** How long to hold this call's answer back, or null to answer it at once. */
  take(call: LateCall): number | null {
    if (call === 'refund' && this.refunds > 0) this.refunds--;
    else if (call === 'capture' && this.captures > 0) this.captures--;
    else if (!(this.percent > 0 && this.random() * 100 < this.percent)) return null;
    this.answeredLate++;
    return this.ms;
  }
}
