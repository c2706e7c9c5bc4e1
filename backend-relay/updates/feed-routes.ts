/**
 * The update feed for tablets: GET /updates/:cabId/<latest*.yml | artifact>, a generic
 * electron-updater provider per cab. The tablet authenticates with its device token
 * (Authorization: Bearer), which electron-updater sends through `requestHeaders`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { cabId, updateRefusalReport } from '../../protocol/relay-protocol.js';
import { errorBody } from '../http/errors.js';
import { tokenMatchesHash } from '../secrets.js';
import type { RelayStore } from '../store/relay-store.js';
import { FleetUpdates, UpdateError } from './fleet-updates.js';
import { UPDATE_ERROR_STATUS } from './http-status.js';
import { RELEASE_FILE_NAME } from './release-folder.js';
import { sendFile } from './send-file.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

const feedParams = z.object({ cabId, file: z.string().regex(RELEASE_FILE_NAME, 'must be a file name of the release') });

const CONTENT_TYPES: [RegExp, string][] = [
  [/\.ya?ml$/, 'text/yaml; charset=utf-8'],
  [/\.blockmap$/, 'application/octet-stream'],
];

export function registerFeedRoutes(app: FastifyInstance, deps: { store: RelayStore; updates: FleetUpdates; logger: Logger }): void {
  const { store, updates, logger } = deps;

  /** The cab named in the path, when the request carries its device token; otherwise a 401 is sent. */
  const authorizedCab = async (id: string, req: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    const cab = presented ? await store.getCab(id) : null;
    if (cab && tokenMatchesHash(presented, cab.tokenHash)) return true;
    reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send(errorBody('unauthorized', 'send the cab’s device token as Authorization: Bearer <token> (the kiosk does this from its config)'));
    return false;
  };

  app.get('/updates/:cabId/:file', async (req, reply) => {
    const params = feedParams.safeParse(req.params);
    if (!params.success) return reply.code(400).send(errorBody('invalid_path', zodIssuesText(params.error)));
    const { cabId: id, file } = params.data;
    if (!(await authorizedCab(id, req, reply))) return reply;

    try {
      const served = await updates.resolveFile(id, file);
      if (served.isFeed) logger.info({ cabId: id, version: served.version, file }, 'update feed served');
      // Feeds change with the rollout; artifacts are immutable per version.
      reply.header('cache-control', served.isFeed ? 'no-store' : 'private, max-age=31536000, immutable');
      const type = CONTENT_TYPES.find(([re]) => re.test(file))?.[1] ?? 'application/octet-stream';
      return sendFile(reply, served, req.headers.range, type);
    } catch (err) {
      if (err instanceof UpdateError) return reply.code(UPDATE_ERROR_STATUS[err.code]).send(errorBody(err.code, err.message));
      throw err;
    }
  });

  // A release the tablet downloaded but would not install: the fleet must hear of it.
  app.post('/updates/:cabId/refusals', async (req, reply) => {
    const params = z.object({ cabId }).safeParse(req.params);
    if (!params.success) return reply.code(400).send(errorBody('invalid_path', zodIssuesText(params.error)));
    const id = params.data.cabId;
    if (!(await authorizedCab(id, req, reply))) return reply;
    const body = updateRefusalReport.safeParse(req.body);
    if (!body.success) return reply.code(400).send(errorBody('invalid_report', zodIssuesText(body.error, { root: '(body)' })));
    await updates.recordRefusal(id, body.data);
    logger.warn({ cabId: id, ...body.data }, 'a tablet refused an update: it is not signed by the fleet release key, or was altered');
    return reply.code(204).send();
  });
}
