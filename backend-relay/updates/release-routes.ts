/**
 * The release admin API (Authorization: Bearer $RELAY_ADMIN_TOKEN): publish a release folder,
 * roll it out to a share of the fleet or to named cabs, pause, resume, pin a cab.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { cabId } from '../../protocol/relay-protocol.js';
import { errorBody } from '../http/errors.js';
import { FleetUpdates, UpdateError } from './fleet-updates.js';
import { UPDATE_ERROR_STATUS } from './http-status.js';
import { RELEASE_FILE_NAME } from './release-folder.js';
import { releaseVersion } from './version.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

export const publishBody = z
  .object({
    version: releaseVersion.optional(),
    dir: z.string().regex(RELEASE_FILE_NAME, 'must be a folder name directly under RELAY_UPDATES_DIR').optional(),
  })
  .refine((b) => b.version !== undefined || b.dir !== undefined, 'give version, dir or both');

export const rolloutBody = z.object({
  version: releaseVersion,
  percent: z.number().int('must be a whole number').min(0).max(100, 'must be 0–100'),
  cabs: z.array(cabId).max(10_000).default([]),
});

export const pinBody = z.object({ version: releaseVersion });

function issues(error: z.ZodError): string {
  return zodIssuesText(error, { root: '(body)' });
}

export function registerReleaseRoutes(
  app: FastifyInstance,
  deps: { updates: FleetUpdates; logger: Logger; authorize: onRequestHookHandler; listCabs: () => Promise<{ cabId: string; appVersion: string | null }[]> },
): void {
  const { updates, logger } = deps;

  app.register(async (admin) => {
    admin.addHook('onRequest', deps.authorize);

    /** Runs an update operation and turns its UpdateError into the right status. */
    const run = async <T>(reply: FastifyReply, op: () => Promise<T>, status = 200) => {
      try {
        return reply.code(status).send(await op());
      } catch (err) {
        if (err instanceof UpdateError) return reply.code(UPDATE_ERROR_STATUS[err.code]).send(errorBody(err.code, err.message));
        throw err;
      }
    };

    admin.get('/admin/releases', async (_req, reply) => run(reply, () => updates.status()));

    admin.post('/admin/releases', async (req, reply) => {
      const body = publishBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send(errorBody('invalid_release', issues(body.error)));
      return run(
        reply,
        async () => {
          const r = await updates.publish(body.data);
          logger.info({ version: r.version, dir: r.dir, channels: r.channels }, 'release published');
          return { version: r.version, dir: r.dir, channels: r.channels, files: r.files.map((f) => ({ name: f.name, size: f.size })) };
        },
        201,
      );
    });

    // Release files arrive as raw bytes, streamed to disk (not held in memory, no JSON limit).
    admin.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    const uploadParams = z.object({ version: releaseVersion, name: z.string().regex(RELEASE_FILE_NAME, 'must be a plain file name') });

    admin.put('/admin/releases/:version/files/:name', async (req, reply) => {
      const params = uploadParams.safeParse(req.params);
      if (!params.success) return reply.code(400).send(errorBody('invalid_upload', issues(params.error)));
      if (!(req.body instanceof Readable)) {
        return reply.code(415).send(errorBody('unsupported_media_type', 'send the file as Content-Type: application/octet-stream'));
      }
      const body = req.body;
      return run(reply, () => updates.upload(params.data.version, params.data.name, body), 201);
    });

    admin.get('/admin/rollout', async (_req, reply) =>
      run(reply, async () => ({ ...(await updates.status()), fleet: await fleetSummary(), log: await updates.log(50) })),
    );

    /** How far the rollout has got: cabs per running version and per offered version. */
    async function fleetSummary() {
      const cabs = await deps.listCabs();
      const targets = await updates.targets(cabs.map((c) => c.cabId));
      const count = (values: (string | null)[]) =>
        Object.fromEntries([...values.reduce((m, v) => m.set(v ?? 'unknown', (m.get(v ?? 'unknown') ?? 0) + 1), new Map<string, number>())].sort());
      return {
        cabs: cabs.length,
        running: count(cabs.map((c) => c.appVersion)),
        offered: count(cabs.map((c) => targets.get(c.cabId)?.targetVersion ?? null)),
        upToDate: cabs.filter((c) => c.appVersion !== null && c.appVersion === targets.get(c.cabId)?.targetVersion).length,
      };
    }

    admin.put('/admin/rollout', async (req, reply) => {
      const body = rolloutBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send(errorBody('invalid_rollout', issues(body.error)));
      return run(reply, async () => {
        const state = await updates.rollout({ version: body.data.version, percent: body.data.percent, namedCabs: body.data.cabs });
        logger.info(state, 'rollout changed');
        return { rollout: state };
      });
    });

    for (const action of ['pause', 'resume'] as const) {
      admin.post(`/admin/rollout/${action}`, async (_req, reply) =>
        run(reply, async () => {
          const state = await updates[action]();
          logger.info(state, `rollout ${action}d`);
          return { rollout: state };
        }),
      );
    }

    admin.put('/admin/cabs/:cabId/pin', async (req, reply) => {
      const params = z.object({ cabId }).safeParse(req.params);
      if (!params.success) return reply.code(400).send(errorBody('invalid_cab_id', issues(params.error)));
      const body = pinBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send(errorBody('invalid_pin', issues(body.error)));
      return run(reply, async () => {
        await updates.pin(params.data.cabId, body.data.version);
        logger.info({ cabId: params.data.cabId, version: body.data.version }, 'cab pinned');
        return { cabId: params.data.cabId, pinnedVersion: body.data.version };
      });
    });

    admin.delete('/admin/cabs/:cabId/pin', async (req, reply) => {
      const params = z.object({ cabId }).safeParse(req.params);
      if (!params.success) return reply.code(400).send(errorBody('invalid_cab_id', issues(params.error)));
      return run(reply, async () => {
        const removed = await updates.unpin(params.data.cabId);
        if (!removed) throw new UpdateError('unknown_cab', `cab ${params.data.cabId} has no pin`);
        return { cabId: params.data.cabId, pinnedVersion: null };
      });
    });
  });
}
