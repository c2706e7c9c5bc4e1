/**
 * A cab past one of its limits: every refusal counts in `relay_cab_quota_exceeded_total{cab,kind}`
 * (alert on its rate), and an error line is logged at most once a minute per cab and kind (a
 * flood of refusals must not become a flood of log lines).
 */
import type { Logger } from 'pino';
import type { RelayMetrics } from './metrics.js';

const LOG_EVERY_MS = 60_000;

export class QuotaAlerts {
  /** Keyed by authenticated cab and kind, so it stays as small as the fleet. */
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly metrics: Pick<RelayMetrics, 'cabQuotaExceeded'>,
    private readonly logger: Logger,
  ) {}

  exceeded(cabId: string, kind: string, detail: Record<string, unknown> = {}): void {
    this.metrics.cabQuotaExceeded.inc({ cab: cabId, kind });
    const key = `${cabId}\u0000${kind}`;
    const now = Date.now();
    const last = this.lastLogged.get(key);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    this.lastLogged.set(key, now);
    this.logger.error({ cabId, kind, ...detail }, 'cab over its quota: refused (a faulty or misused tablet; repeats within a minute are only counted)');
  }
}
