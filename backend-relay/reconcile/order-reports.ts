/**
 * `order.created` from a tablet: the order it just made at its PSP (Hips), so that the relay can
 * ask the PSP about it if every webhook of it is lost. The tablet's word is only a pointer: the
 * reconciler reads the order from the PSP with the merchant key and keeps it only if the PSP
 * says it is this cab's ride; paid or not is never taken from the tablet.
 */
import type { Logger } from 'pino';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import { orderCreated, type OrderCreatedAck, type PspName } from '../../protocol/relay-protocol.js';
import type { PaymentProvider } from '../payments/payment-provider.js';
import { envFor } from '../payments/payment-service.js';
import type { RelayStore } from '../store/relay-store.js';
import type { ReconcileStore } from './reconcile-store.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

/** More open orders than a cab can have at once: a tablet gone wrong, not a fleet. */
export const MAX_OPEN_ORDERS_PER_CAB = 50;
/** A report's createdAt is only a hint; one from further back than this is read as now minus this. */
const OLDEST_HINT_MS = 24 * 3600_000;

export interface OrderReportDeps {
  store: Pick<RelayStore, 'getCab'>;
  reconciliations: ReconcileStore;
  providers: ReadonlyMap<PspName, PaymentProvider>;
  logger: Logger;
  /** The first check comes this long after the order was made (as for relay-made payments). */
  afterMs: number;
  now?: () => Date;
}

export async function acceptOrderReport(deps: OrderReportDeps, cabId: string, payload: unknown): Promise<OrderCreatedAck> {
  const parsed = orderCreated.safeParse(payload);
  if (!parsed.success) return fail('invalid', `order.created rejected: ${zodIssuesText(parsed.error, { limit: 5 })}`);
  const report = parsed.data;
  const cab = await deps.store.getCab(cabId);
  if (!cab) return fail('unavailable', 'the relay does not know this cab right now; send it again');
  if (report.psp !== cab.psp || PSP_CAPABILITIES[report.psp].relayMakesPayment) {
    return fail('wrong_psp', `this cab pays with ${cab.psp}; order.created is for orders the tablet makes itself`);
  }
  if (report.merchantOrderId !== `${cabId}.${report.rideId}`) {
    return fail('forbidden', `merchantOrderId must be ${cabId}.${report.rideId}: a cab reports only its own rides`);
  }
  if (!deps.providers.get(report.psp)?.lookupOrder) {
    return fail(
      'unsupported',
      `the relay cannot read ${report.psp} orders: set ${envFor(report.psp)} on the relay so it can confirm orders whose webhooks were lost`,
    );
  }
  // Per cab: another cab's claim to the same order id is checked at the PSP on its own.
  if (await deps.reconciliations.get(report.psp, report.pspOrderId, cabId)) return { ok: true, value: { tracked: true } };
  if ((await deps.reconciliations.openCount(cabId, report.psp)) >= MAX_OPEN_ORDERS_PER_CAB) {
    deps.logger.error({ cabId, pspOrderId: report.pspOrderId }, 'a tablet reported more open orders than a cab can have; refused');
    return fail('limit_reached', `this cab already has ${MAX_OPEN_ORDERS_PER_CAB} orders waiting for their outcome`);
  }
  const now = (deps.now ?? (() => new Date()))();
  const hinted = Date.parse(report.createdAt);
  const openedMs = Math.min(now.getTime(), Math.max(hinted, now.getTime() - OLDEST_HINT_MS));
  await deps.reconciliations.open(
    {
      psp: report.psp,
      pspId: report.pspOrderId,
      cabId,
      rideId: report.rideId,
      attempt: report.attempt,
      openedAt: new Date(openedMs).toISOString(),
      nextCheckAt: new Date(openedMs + deps.afterMs).toISOString(),
    },
    now.toISOString(),
  );
  deps.logger.info(
    { cabId, rideId: report.rideId, attempt: report.attempt, pspOrderId: report.pspOrderId },
    'order reported by the tablet; its outcome is checked with the PSP if no webhook brings it',
  );
  return { ok: true, value: { tracked: true } };
}

function fail(code: string, message: string): { ok: false; error: { code: string; message: string } } {
  return { ok: false, error: { code, message } };
}
