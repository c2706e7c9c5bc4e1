/** The fleet registry behind `Authorization: Bearer $RELAY_ADMIN_TOKEN` (DESIGN.md §4.3). */
import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { cabId, pspName, type PspName } from '../../protocol/relay-protocol.js';
import type { DeliveryHub } from '../delivery.js';
import type { FailureLimit } from '../rate-limits.js';
import { hashToken, newDeviceToken } from '../secrets.js';
import type { RelayStore } from '../store/relay-store.js';
import { requireBearer } from './bearer-guard.js';
import { errorBody } from './errors.js';

export const putCabBody = z.object({
  psp: pspName.default('hips'),
  qrCodes: z.array(z.string().trim().min(1).max(200)).max(20).default([]),
  plate: z.string().trim().min(1).max(20),
  label: z.string().trim().min(1).max(40),
  /** A disabled cab keeps its token and log, but scans of its QR are refused (412). */
  enabled: z.boolean().default(true),
});
export type PutCabBody = z.input<typeof putCabBody>;

const cabParams = z.object({ cabId });
/** `?keepToken=true` updates a cab without issuing a new device token. */
const putCabQuery = z.object({ keepToken: z.enum(['true', 'false', '1', '0']).optional() });

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
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
   * The cab's PSP sets up its QR codes (Vipps: merchant-callback QRs); null when the PSP has
   * nothing to provision. Throws when the PSP could not do it.
   */
  provisionCab?(psp: PspName, cab: { cabId: string; plate: string; qrCodes: string[] }): Promise<{ qrContent: string | null } | null>;
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
      if (!body.success) return reply.code(400).send(errorBody('invalid_cab', issues(body.error)));
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
      let provisioned: { qrContent: string | null } | null = null;
      if (deps.provisionCab) {
        try {
          provisioned = await deps.provisionCab(body.data.psp, { cabId: id, plate: body.data.plate, qrCodes: body.data.qrCodes });
        } catch (err) {
          // Nothing is written: the PUT can simply be sent again.
          logger.error({ err, cabId: id, psp: body.data.psp }, 'the PSP could not provision the cab');
          return reply
            .code(502)
            .send(errorBody('psp_provisioning_failed', `${body.data.psp} could not set up this cab's QR codes (${(err as Error).message}); the cab was not changed, try the PUT again`));
        }
      }
      const extra = provisioned ? { qrContent: provisioned.qrContent } : {};
      const result = await store.putCab({ cabId: id, ...body.data, ...extra }, hashToken(token), new Date().toISOString(), { keepToken });
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
    });

    admin.get('/admin/cabs', async () => {
      const cabs = await store.listCabs();
      const targets = (await deps.updateTargets?.(cabs.map((c) => c.cabId))) ?? new Map();
      return {
        cabs: cabs.map((c) => ({
          cabId: c.cabId,
          psp: c.psp,
          qrCodes: c.qrCodes,
          qrContent: c.qrContent,
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
      if (!(await store.deleteCab(id))) return reply.code(404).send(errorBody('unknown_cab', `no cab ${id}`));
      deps.disconnectCab(id);
      logger.info({ cabId: id }, 'cab removed with its events; live connection closed');
      return { cabId: id, deleted: true };
    });
  });
}
