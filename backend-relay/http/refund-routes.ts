/**
 * `GET /admin/refunds` (admin token): the refund audit, newest first. Filters: `cabId`,
 * `rideId`, `outcome` (refunded, refused, rejected, unavailable), `since` and `until` (ISO
 * times, by when the relay received the request), `limit` (1–1000, default 100); `before` is
 * the `next` of the previous page.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { FailureLimit } from '../rate-limits.js';
import type { PaymentStore } from '../store/payment-store.js';
import { requireAdminToken } from './admin-routes.js';
import { errorBody } from './errors.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

const isoTime = z.iso.datetime({ offset: true, error: 'must be an ISO time such as 2026-01-31T12:00:00Z' });

const refundsQuery = z.strictObject({
  cabId: z.string().min(1).max(100).optional(),
  rideId: z.string().min(1).max(100).optional(),
  outcome: z.enum(['refunded', 'refused', 'rejected', 'unavailable']).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function registerRefundRoutes(app: FastifyInstance, deps: { payments: PaymentStore; adminToken: string; authFailures?: FailureLimit }): void {
  app.register(async (admin) => {
    admin.addHook('onRequest', requireAdminToken(deps.adminToken, deps.authFailures ?? null));
    admin.get('/admin/refunds', async (req, reply) => {
      const query = refundsQuery.safeParse(req.query ?? {});
      if (!query.success) {
        const what = zodIssuesText(query.error, { root: 'query', limit: 5 });
        return reply.code(400).send(errorBody('invalid_query', `${what} (filters: cabId, rideId, outcome, since, until, before, limit)`));
      }
      const q = query.data;
      // ISO times compare as text only in one form: the stored UTC one.
      const utc = (t: string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
      const refunds = await deps.payments.refundAudit({ ...q, since: utc(q.since), until: utc(q.until) });
      const last = refunds.at(-1);
      return { refunds, next: refunds.length === q.limit && last ? last.id : null };
    });
  });
}
