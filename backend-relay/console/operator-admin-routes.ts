/**
 * Operator accounts over the admin API (Bearer RELAY_ADMIN_TOKEN), for `npm run fleet --
 * operator …`: add one with a one-time password, list, reset a password, disable or enable.
 * Every change is in the audit log, by `admin-token`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { requireAdminToken } from '../http/admin-routes.js';
import { errorBody } from '../http/errors.js';
import type { FailureLimit } from '../rate-limits.js';
import { operatorName, operatorRole, type OperatorStore } from './operator-store.js';
import { hashPassword, oneTimePassword } from './passwords.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

export const ADMIN_TOKEN_ACTOR = 'admin-token';

const addBody = z.object({ name: operatorName, role: operatorRole });
const nameParams = z.object({ name: operatorName });
const issues = (error: z.ZodError) => zodIssuesText(error, { root: '', limit: 5 });

export function registerOperatorAdminRoutes(
  app: FastifyInstance,
  deps: { operators: OperatorStore; adminToken: string; authFailures: FailureLimit | null; now: () => number },
): void {
  const { operators } = deps;
  const iso = () => new Date(deps.now()).toISOString();
  app.register(async (admin) => {
    admin.addHook('onRequest', requireAdminToken(deps.adminToken, deps.authFailures));

    const nameOf = (params: unknown, reply: FastifyReply): string | null => {
      const parsed = nameParams.safeParse(params);
      if (parsed.success) return parsed.data.name;
      void reply.code(400).send(errorBody('invalid_operator', issues(parsed.error)));
      return null;
    };

    admin.post('/admin/operators', async (req, reply) => {
      const body = addBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send(errorBody('invalid_operator', issues(body.error)));
      const password = oneTimePassword();
      if (!operators.add(body.data.name, body.data.role, await hashPassword(password), iso())) {
        return reply.code(409).send(errorBody('operator_exists', `operator ${body.data.name} exists; use reset-password to give them a new one-time password`));
      }
      operators.audit({ actor: ADMIN_TOKEN_ACTOR, action: 'operator.add', target: body.data.name, detail: { role: body.data.role }, ip: req.ip }, iso());
      return reply.code(201).send({ name: body.data.name, role: body.data.role, oneTimePassword: password });
    });

    admin.get('/admin/operators', async () => ({ operators: operators.list() }));

    admin.post('/admin/operators/:name/reset-password', async (req, reply) => {
      const name = nameOf(req.params, reply);
      if (name === null) return reply;
      const password = oneTimePassword();
      if (!operators.setPassword(name, await hashPassword(password), true, iso())) {
        return reply.code(404).send(errorBody('unknown_operator', `no operator ${name}`));
      }
      operators.audit({ actor: ADMIN_TOKEN_ACTOR, action: 'operator.reset_password', target: name, ip: req.ip }, iso());
      return { name, oneTimePassword: password };
    });

    for (const [path, disabled] of [
      ['disable', true],
      ['enable', false],
    ] as const) {
      admin.post(`/admin/operators/:name/${path}`, async (req, reply) => {
        const name = nameOf(req.params, reply);
        if (name === null) return reply;
        if (!operators.setDisabled(name, disabled)) return reply.code(404).send(errorBody('unknown_operator', `no operator ${name}`));
        operators.audit({ actor: ADMIN_TOKEN_ACTOR, action: `operator.${path}`, target: name, ip: req.ip }, iso());
        return { name, disabled };
      });
    }
  });
}
