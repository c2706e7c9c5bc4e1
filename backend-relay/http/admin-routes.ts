/** The fleet registry behind `Authorization: Bearer $RELAY_ADMIN_TOKEN` (docs/relay.md, Admin API). */
import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { cabId, pspName, type PspName } from '../../protocol/relay-protocol.js';
import type { DeliveryHub } from '../delivery.js';
import type { FailureLimit } from '../rate-limits.js';
import { hashToken, newDeviceToken } from '../secrets.js';
import type { QrClaims } from '../store/qr-claims.js';
import type { RelayStore } from '../store/relay-store.js';
import { requireBearer } from './bearer-guard.js';
import { errorBody } from './errors.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';
import { cabCurrency, currencyProblem, type DefaultCurrencies } from '../payments/cab-currency.js';

export const putCabBody = z
  .object({
    psp: pspName.default('hips'),
    qrCodes: z.array(z.string().trim().min(1).max(200)).max(20).default([]),
    plate: z.string().trim().min(1).max(20),
    label: z.string().trim().min(1).max(40),
    /** A disabled cab keeps its token and log, but scans of its QR are refused (412). */
    enabled: z.boolean().default(true),
    /** ISO 4217, one the PSP takes; omitted: unchanged (a new cab takes its PSP's default). */
    currency: z.string().trim().toUpperCase().optional(),
  })
  .superRefine((body, ctx) => {
    const problem = body.currency === undefined ? null : currencyProblem(body.psp, body.currency);
    if (problem) ctx.addIssue({ code: 'custom', path: ['currency'], message: problem });
  });
export type PutCabBody = z.input<typeof putCabBody>;

const cabParams = z.object({ cabId });
/** `?keepToken=true` updates a cab without issuing a new device token. */
const putCabQuery = z.object({ keepToken: z.enum(['true', 'false', '1', '0']).optional() });

function issues(error: z.ZodError): string {
  return zodIssuesText(error, { limit: 5 });
}

/**
 * The admin routes' guard, shared with the release routes (backend-relay/updates). `failures`
 * counts wrong tokens per address (429 past the limit).
 */
export function requireAdminToken(adminToken: string, failures: FailureLimit | null = null): onRequestHookHandler {
  return requireBearer(adminToken, failures, 'send Authorization: Bearer <RELAY_ADMIN_TOKEN>');
}

/** Per cab: the release its rollout assigns (GET /admin/cabs). */
export type UpdateTargets = (cabIds: string[]) => Promise<Map<string, Record<string, unknown>>>;

interface AdminDeps {
  store: RelayStore;
  /** Adds each cab's update target to GET /admin/cabs. */
  updateTargets?: UpdateTargets;
  hub: DeliveryHub;
  /** Closes every live connection of the cab (its token no longer holds). */
  disconnectCab(cabId: string): void;
  logger: Logger;
  adminToken: string;
  /** Wrong admin tokens per address. */
  authFailures?: FailureLimit;
  /**
   * The cab's PSP sets up its QR codes (Vipps: merchant-callback QRs; Hips: static QRs connected
   * to the relay, offline while the cab is disabled); null when the PSP has nothing to provision.
   * Throws when the PSP could not do it.
   */
  provisionCab?(psp: PspName, cab: { cabId: string; plate: string; qrCodes: string[]; enabled: boolean }): Promise<{ qrContent: string | null } | null>;
  /** Takes QR codes out of use at their PSP (Hips: offline); a no-op for PSPs without. Throws on failure. */
  retireQrCodes?(psp: PspName, qrCodes: string[]): Promise<void>;
  /**
   * Who sets up a PSP's static QRs: the relay, or the fleet out of band (with what to do, for the
   * admin answer); null for PSPs without a static QR.
   */
  qrSetup?(psp: PspName, qrCodes: string[]): { by: 'relay' } | { by: 'out_of_band'; notice: string } | null;
  /** Reserves QR codes while their PSP sets them up, so two claims of one code cannot race. */
  qrClaims?: QrClaims;
  /** The currency of a cab registered without one, per PSP (the fleet's PSP configuration). */
  defaultCurrencies?: DefaultCurrencies;
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { store, hub, logger } = deps;

  app.register(async (admin) => {
    admin.addHook('onRequest', requireAdminToken(deps.adminToken, deps.authFailures ?? null));

    const parseCabId = (params: unknown, reply: FastifyReply): string | null => {
      const parsed = cabParams.safeParse(params);
      if (parsed.success) return parsed.data.cabId;
      void reply.code(400).send(errorBody('invalid_cab_id', `cabId ${issues(parsed.error)}`));
      return null;
    };

    admin.put('/admin/cabs/:cabId', async (req, reply) => {
      const id = parseCabId(req.params, reply);
      if (id === null) return reply;
      const body = putCabBody.safeParse(req.body ?? {});
      if (!body.success) {
        const currency = body.error.issues.find((i) => i.path[0] === 'currency');
        return reply.code(400).send(errorBody(currency ? 'invalid_currency' : 'invalid_cab', issues(body.error)));
      }
      const query = putCabQuery.safeParse(req.query ?? {});
      if (!query.success) return reply.code(400).send(errorBody('invalid_query', `keepToken must be true or false`));
      const keepToken = query.data.keepToken === 'true' || query.data.keepToken === '1';
      const token = newDeviceToken();
      const conflict = (qrCode: string, owner: string) =>
        reply.code(409).send(errorBody('qr_code_taken', `QR code "${qrCode}" belongs to cab ${owner}; remove it there first`));
      // Checked before the PSP is asked, so a refused cab never touches another cab's QR there.
      for (const qr of body.data.qrCodes) {
        const owner = await store.findCabByQrCode(qr);
        if (owner && owner.cabId !== id) return conflict(qr, owner.cabId);
      }
      // Reserved until this PUT answers: a second cab claiming one of these codes meanwhile is
      // refused before it reaches the PSP, so the PSP's QR never shows a cab it does not belong to.
      const claim = deps.qrClaims?.acquire(id, body.data.qrCodes) ?? null;
      if (claim && !claim.ok) {
        if (claim.reason === 'owned') return conflict(claim.qrCode, claim.cabId);
        return reply
          .code(409)
          .send(errorBody('qr_code_busy', `QR code "${claim.qrCode}" is being set up for cab ${claim.cabId} right now; if that fails, send this PUT again`));
      }
      try {
        return await putCab(id, body.data, { keepToken, token }, reply, conflict, claim?.claimId ?? null);
      } finally {
        if (claim?.ok) deps.qrClaims?.release(claim.claimId);
      }
    });

    /** The PUT once its QR codes are reserved: the PSP first, then the commit. */
    async function putCab(
      id: string,
      cab: z.output<typeof putCabBody>,
      opts: { keepToken: boolean; token: string },
      reply: FastifyReply,
      conflict: (qrCode: string, owner: string) => FastifyReply,
      claimId: string | null,
    ) {
      const { keepToken, token } = opts;
      const before = await store.getCab(id);
      // A cab moved to another PSP keeps its currency only if the new PSP takes it.
      const kept = cab.currency === undefined && before?.currency ? currencyProblem(cab.psp, before.currency) : null;
      if (kept)
        return reply
          .code(400)
          .send(errorBody('invalid_currency', `the cab's currency ${before!.currency} does not suit ${cab.psp} (${kept}); send currency with the PUT`));
      const setup = deps.qrSetup?.(cab.psp, cab.qrCodes) ?? null;
      let provisioned: { qrContent: string | null } | null = null;
      try {
        if (deps.provisionCab) provisioned = await deps.provisionCab(cab.psp, { cabId: id, plate: cab.plate, qrCodes: cab.qrCodes, enabled: cab.enabled });
        // Codes the cab no longer has stop taking scans at their PSP.
        const dropped = before ? before.qrCodes.filter((qr) => !cab.qrCodes.includes(qr) || before.psp !== cab.psp) : [];
        if (before && dropped.length > 0) await deps.retireQrCodes?.(before.psp, dropped);
      } catch (err) {
        // Nothing is written: the PUT can simply be sent again.
        logger.error({ err, cabId: id, psp: cab.psp }, 'the PSP could not provision the cab');
        return reply
          .code(502)
          .send(
            errorBody(
              'psp_provisioning_failed',
              `${cab.psp} could not set up this cab's QR codes (${(err as Error).message}); the cab was not changed, try the PUT again`,
            ),
          );
      }
      if (claimId && !deps.qrClaims?.stillHeld(claimId, cab.qrCodes)) {
        logger.error({ cabId: id }, 'the PSP took longer than the QR claim lasts; the cab was not changed');
        return reply
          .code(503)
          .send(errorBody('qr_claim_expired', `setting up the QR codes at ${cab.psp} took too long; the cab was not changed, send the PUT again`));
      }
      const extra = {
        ...(provisioned ? { qrContent: provisioned.qrContent } : {}),
        ...(setup ? { qrSetup: setup.by } : {}),
        ...(setup?.by === 'out_of_band' ? { notice: setup.notice } : {}),
      };
      if (setup?.by === 'out_of_band') logger.warn({ cabId: id, psp: cab.psp }, setup.notice);
      const result = await store.putCab(
        { cabId: id, ...cab, ...(provisioned ? { qrContent: provisioned.qrContent } : {}) },
        hashToken(token),
        new Date().toISOString(),
        { keepToken },
      );
      if (result.status === 'qr_conflict') return conflict(result.qrCode, result.ownerCabId);
      if (result.status === 'updated' && keepToken) {
        logger.info({ cabId: id }, 'cab updated; device token kept');
        return reply.code(200).send({ cabId: id, updated: true, ...extra });
      }
      if (result.status === 'updated') {
        // The old token is stored only as a hash, so the PUT contract ({cabId, deviceToken})
        // can only be met with a new one; the tablet holding the old one is disconnected.
        deps.disconnectCab(id);
        logger.info({ cabId: id }, 'cab updated; new device token issued, live connection closed');
        return reply.code(200).send({ cabId: id, deviceToken: token, updated: true, ...extra });
      }
      logger.info({ cabId: id }, 'cab registered');
      return reply.code(201).send({ cabId: id, deviceToken: token, ...extra });
    }

    admin.get('/admin/cabs', async () => {
      const cabs = await store.listCabs();
      const targets = (await deps.updateTargets?.(cabs.map((c) => c.cabId))) ?? new Map();
      return {
        cabs: cabs.map((c) => ({
          cabId: c.cabId,
          psp: c.psp,
          qrCodes: c.qrCodes,
          qrContent: c.qrContent,
          currency: cabCurrency(c, deps.defaultCurrencies),
          plate: c.plate,
          label: c.label,
          enabled: c.enabled,
          online: hub.isConnected(c.cabId),
          lastSeenAt: hub.isConnected(c.cabId) ? new Date().toISOString() : c.lastSeenAt,
          appVersion: c.appVersion,
          rideState: c.rideState,
          outboxDepth: c.outboxDepth,
          backlog: c.backlog,
          lastSeq: c.lastSeq,
          ackedSeq: c.ackedSeq,
          ...targets.get(c.cabId),
        })),
      };
    });

    admin.post('/admin/cabs/:cabId/rotate-token', async (req, reply) => {
      const id = parseCabId(req.params, reply);
      if (id === null) return reply;
      const token = newDeviceToken();
      if (!(await store.setTokenHash(id, hashToken(token)))) {
        return reply.code(404).send(errorBody('unknown_cab', `no cab ${id}; add it with PUT /admin/cabs/${id}`));
      }
      deps.disconnectCab(id);
      logger.info({ cabId: id }, 'device token rotated; live connection closed');
      return { cabId: id, deviceToken: token };
    });

    admin.delete('/admin/cabs/:cabId', async (req, reply) => {
      const id = parseCabId(req.params, reply);
      if (id === null) return reply;
      const cab = await store.getCab(id);
      if (!cab) return reply.code(404).send(errorBody('unknown_cab', `no cab ${id}`));
      try {
        // A removed cab's QR codes stop taking scans at its PSP first.
        if (cab.qrCodes.length > 0) await deps.retireQrCodes?.(cab.psp, cab.qrCodes);
      } catch (err) {
        logger.error({ err, cabId: id, psp: cab.psp }, 'the PSP could not take the cab’s QR codes offline');
        return reply
          .code(502)
          .send(
            errorBody(
              'psp_provisioning_failed',
              `${cab.psp} could not take this cab's QR codes offline (${(err as Error).message}); the cab was not removed, try the DELETE again`,
            ),
          );
      }
      if (!(await store.deleteCab(id))) return reply.code(404).send(errorBody('unknown_cab', `no cab ${id}`));
      deps.disconnectCab(id);
      logger.info({ cabId: id }, 'cab removed with its events; live connection closed');
      return { cabId: id, deleted: true };
    });
  });
}
