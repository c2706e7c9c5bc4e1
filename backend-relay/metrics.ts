/** Prometheus metrics on the relay's own registry (GET /metrics). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface RelayMetrics {
  registry: Registry;
  webhooks: Counter<'psp' | 'kind' | 'outcome'>;
  deliveryLatency: Histogram<never>;
  redeliveries: Counter<never>;
  eventsRejected: Counter<'type' | 'code'>;
  connectedCabs: Gauge<never>;
  backlog: Gauge<'cab'>;
  /** Refusals of a cab past one of its limits, by kind (messages, receipt_*, payment_*). */
  cabQuotaExceeded: Counter<'cab' | 'kind'>;
  /** Reconciliation with the PSPs: one count per check, by PSP and outcome. */
  reconciliations: Counter<'psp' | 'outcome'>;
}

/**
 * `readConnected` and `readBacklog` are read at scrape time, so the gauges are never stale
 * and the database stays the source of truth.
 */
export function createMetrics(
  readConnected: () => number,
  readBacklog: () => Promise<Map<string, number>>,
  readOpenReconciliations: () => Promise<Map<string, number>> = async () => new Map(),
): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relay_' });
  const webhooks = new Counter({
    name: 'relay_webhooks_total',
    help: 'Webhooks received, by PSP, kind (qr/order) and outcome',
    labelNames: ['psp', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const deliveryLatency = new Histogram({
    name: 'relay_delivery_latency_seconds',
    help: 'From the commit of an event to the tablet’s ack',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 3600, 86_400],
    registers: [registry],
  });
  const redeliveries = new Counter({
    name: 'relay_redeliveries_total',
    help: 'Events sent again after an ack timeout or a refused ack',
    registers: [registry],
  });
  const eventsRejected = new Counter({
    name: 'relay_events_rejected_total',
    help: 'Events a tablet refused, by event type and code (rejected: it does not match the tablet’s ride; not sent again)',
    labelNames: ['type', 'code'] as const,
    registers: [registry],
  });
  const connectedCabs = new Gauge({
    name: 'relay_connected_cabs',
    help: 'Tablets connected now',
    registers: [registry],
    collect() {
      this.set(readConnected());
    },
  });
  const backlog = new Gauge({
    name: 'relay_backlog_events',
    help: 'Unacked events per cab',
    labelNames: ['cab'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [cab, count] of await readBacklog()) this.set({ cab }, count);
    },
  });
  const cabQuotaExceeded = new Counter({
    name: 'relay_cab_quota_exceeded_total',
    help: 'Requests of a cab refused because it went past one of its limits, by kind',
    labelNames: ['cab', 'kind'] as const,
    registers: [registry],
  });
  const reconciliations = new Counter({
    name: 'relay_reconciliations_total',
    help: 'Payments and orders the relay asked their PSP about, by PSP and outcome (paid, failed, authorized: applied from the PSP’s answer; already_settled: a webhook got there first; pending, unknown, error: asked again later; rejected, abandoned)',
    labelNames: ['psp', 'outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'relay_reconciliations_open',
    help: 'Payments and orders whose outcome the relay is still waiting to learn from their PSP',
    labelNames: ['psp'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [psp, count] of await readOpenReconciliations()) this.set({ psp }, count);
    },
  });
  return { registry, webhooks, deliveryLatency, redeliveries, eventsRejected, connectedCabs, backlog, cabQuotaExceeded, reconciliations };
}
