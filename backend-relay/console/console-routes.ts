/**
 * The console's JSON API under /console/api: login, the session, the fleet, a cab's page and
 * what an operator may do to a cab, and the audit log. Cab changes go through the admin API
 * itself (in-process), so PSP provisioning, QR claims and disconnects are exactly the CLI's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { z } from 'zod';
import { cabId as cabIdSchema } from '../../protocol/relay-protocol.js';
import { errorBody } from '../http/errors.js';
import type { FailureLimit } from '../rate-limits.js';
import type { RelayStore } from '../store/relay-store.js';
import { tooManyFailures } from '../http/bearer-guard.js';
import { consoleGuard, SESSION_COOKIE, type Access } from './console-guard.js';
import { cabView, type CabHistory } from './fleet-view.js';
import type { OperatorStore } from './operator-store.js';
import { hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from './passwords.js';

export interface ConsoleRouteDeps {
  store: RelayStore;
  operators: OperatorStore;
  history: CabHistory;
  isOnline: (cabId: string) => boolean;
  adminToken: string;
  /** Per operator name: wrong passwords lock the account for the window. */
  loginFailures: FailureLimit;
  /** Per address: wrong passwords for any name. */
  addressFailures: FailureLimit;
  publicOrigin: string | null;
  secureCookie: boolean;
  now: () => number;
  /** Something about a cab changed; the live feed looks again now. */
  fleetChanged: () => void;
}

const loginBody = z.object({
  name: z.string({ error: 'give your operator name' }).min(1).max(40),
  password: z.string({ error: 'give your password' }).min(1).max(MAX_PASSWORD_LENGTH),
});
const passwordBody = z.object({
  current: z.string({ error: 'give your current password' }).min(1).max(MAX_PASSWORD_LENGTH),
  next: z.string({ error: 'give the new password' }),
});
const cabParams = z.object({ cabId: cabIdSchema });
const qrParams = z.object({ cabId: cabIdSchema, qrCode: z.string().min(1).max(200) });
const enabledBody = z.object({ enabled: z.boolean({ error: 'enabled must be true or false' }) });
const auditQuery = z.object({
  target: z.string().min(1).max(200).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});

const issues = (error: z.ZodError) => error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');

/** Verified against when the name is unknown, so an unknown name takes as long as a wrong password. */
let decoyHash: Promise<string> | null = null;

export function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleRouteDeps): void {
  const { operators } = deps;
  const iso = () => new Date(deps.now()).toISOString();
  const actorOf = (req: FastifyRequest) => req.consoleSession?.operator.name ?? 'anonymous';
  const audit = (req: FastifyRequest, action: string, target: string | null, detail?: unknown, outcome: 'ok' | 'refused' = 'ok') =>
    operators.audit({ actor: actorOf(req), action, target, detail, outcome, ip: req.ip }, iso());
  const route = (access: Access) => ({ config: { access } });
  const sessionBody = (req: FastifyRequest) => {
    const s = req.consoleSession!;
    return { operator: s.operator, csrfToken: s.csrfToken, expiresAt: new Date(s.expiresAtMs).toISOString() };
  };
  // Path / so the live namespace's handshake (/socket.io/) carries it too.
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: deps.secureCookie };

  app.register(async (api) => {
    api.addHook(
      'preHandler',
      consoleGuard({
        operators,
        publicOrigin: deps.publicOrigin,
        now: deps.now,
        refused: (req, action, detail) => audit(req, action, null, detail, 'refused'),
      }),
    );

    api.post('/console/api/login', route('public'), async (req, reply) => {
      const body = loginBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send(errorBody('invalid_login', issues(body.error)));
      const { name, password } = body.data;
      const wait = Math.max(await deps.addressFailures.retryAfterS(req.ip), await deps.loginFailures.retryAfterS(name));
      if (wait > 0) {
        operators.audit({ actor: name, action: 'login', target: name, outcome: 'refused', detail: { reason: 'locked' }, ip: req.ip }, iso());
        return tooManyFailures(reply, wait, 'wrong passwords for this operator or');
      }
      const stored = operators.passwordHash(name);
      decoyHash ??= hashPassword('decoy password never used');
      const matches = await verifyPassword(password, stored ?? (await decoyHash));
      const operator = operators.get(name);
      if (!stored || !matches || !operator || operator.disabled) {
        await Promise.all([deps.loginFailures.failed(name), deps.addressFailures.failed(req.ip)]);
        const reason = !stored ? 'unknown operator' : !matches ? 'wrong password' : 'account disabled';
        operators.audit({ actor: name, action: 'login', target: name, outcome: 'refused', detail: { reason }, ip: req.ip }, iso());
        return reply
          .code(401)
          .send(errorBody('wrong_login', 'wrong operator name or password, or the account is disabled; ask an admin if you are locked out'));
      }
      const session = operators.openSession(name, deps.now());
      operators.audit({ actor: name, action: 'login', target: name, ip: req.ip }, iso());
      reply.setCookie(SESSION_COOKIE, session.token, cookieOptions);
      return { operator: operators.get(name), csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAtMs).toISOString() };
    });

    api.get('/console/api/session', route('session'), async (req) => sessionBody(req));

    api.post('/console/api/logout', route('session'), async (req, reply) => {
      const token = req.cookies[SESSION_COOKIE];
      if (token) operators.closeSession(token);
      audit(req, 'logout', actorOf(req));
      reply.clearCookie(SESSION_COOKIE, cookieOptions);
      return { loggedOut: true };
    });

    api.post('/console/api/password', route('session'), async (req, reply) => {
      const body = passwordBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send(errorBody('invalid_password_change', issues(body.error)));
      const name = req.consoleSession!.operator.name;
      const wait = await deps.loginFailures.retryAfterS(name);
      if (wait > 0) return tooManyFailures(reply, wait, 'wrong passwords for this operator or');
      if (!(await verifyPassword(body.data.current, operators.passwordHash(name) ?? ''))) {
        await deps.loginFailures.failed(name);
        audit(req, 'password_change', name, { reason: 'wrong current password' }, 'refused');
        return reply.code(403).send(errorBody('wrong_password', 'the current password is wrong'));
      }
      const problem = body.data.next === body.data.current ? 'the new password must differ from the current one' : passwordProblem(body.data.next, name);
      if (problem) return reply.code(400).send(errorBody('weak_password', problem));
      operators.setPassword(name, await hashPassword(body.data.next), false, iso(), req.cookies[SESSION_COOKIE]);
      audit(req, 'password_change', name);
      return { operator: operators.get(name) };
    });

    api.get('/console/api/cabs', route('viewer'), async () => {
      const cabs = await deps.store.listCabs();
      return { cabs: cabs.map((c) => cabView(c, deps.isOnline(c.cabId))) };
    });

    const parseCab = (req: FastifyRequest, reply: FastifyReply): string | null => {
      const parsed = cabParams.safeParse(req.params);
      if (parsed.success) return parsed.data.cabId;
      void reply.code(400).send(errorBody('invalid_cab_id', `cabId: ${issues(parsed.error)}`));
      return null;
    };

    api.get('/console/api/cabs/:cabId', route('viewer'), async (req, reply) => {
      const id = parseCab(req, reply);
      if (id === null) return reply;
      const cab = await deps.store.getCab(id);
      if (!cab) return reply.code(404).send(errorBody('unknown_cab', `no cab ${id}`));
      return {
        cab: cabView(cab, deps.isOnline(id)),
        events: deps.history.recentEvents(id),
        payments: deps.history.recentPayments(id),
        refunds: deps.history.recentRefunds(id),
      };
    });

    api.get('/console/api/cabs/:cabId/qr/:qrCode', route('viewer'), async (req, reply) => {
      const parsed = qrParams.safeParse(req.params);
      if (!parsed.success) return reply.code(400).send(errorBody('invalid_qr', issues(parsed.error)));
      const cab = await deps.store.getCab(parsed.data.cabId);
      if (!cab || !cab.qrCodes.includes(parsed.data.qrCode)) {
        return reply.code(404).send(errorBody('unknown_qr', `cab ${parsed.data.cabId} has no QR code ${parsed.data.qrCode}`));
      }
      // What the passenger scans: the content the PSP gave when it provisioned the cab (it
      // answers for the first code only), else the code's id.
      const content = cab.qrContent && parsed.data.qrCode === cab.qrCodes[0] ? cab.qrContent : parsed.data.qrCode;
      const png = await QRCode.toBuffer(content, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 480 });
      return reply.header('cache-control', 'private, no-store').type('image/png').send(png);
    });

    /** One admin API call with the relay's admin token; its answer is passed on as it is. */
    const viaAdmin = async (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
      const res = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${deps.adminToken}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
        ...(payload ? { payload: JSON.stringify(payload) } : {}),
      });
      return { status: res.statusCode, body: res.json() as Record<string, unknown> };
    };

    api.post('/console/api/cabs/:cabId/rotate-token', route('operator'), async (req, reply) => {
      const id = parseCab(req, reply);
      if (id === null) return reply;
      const res = await viaAdmin('POST', `/admin/cabs/${encodeURIComponent(id)}/rotate-token`);
      audit(req, 'cab.rotate_token', id, res.status === 200 ? undefined : { status: res.status }, res.status === 200 ? 'ok' : 'refused');
      deps.fleetChanged();
      return reply.code(res.status).send(res.body);
    });

    api.post('/console/api/cabs/:cabId/enabled', route('operator'), async (req, reply) => {
      const id = parseCab(req, reply);
      if (id === null) return reply;
      const body = enabledBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send(errorBody('invalid_body', issues(body.error)));
      const cab = await deps.store.getCab(id);
      if (!cab) return reply.code(404).send(errorBody('unknown_cab', `no cab ${id}`));
      const put = { psp: cab.psp, qrCodes: cab.qrCodes, plate: cab.plate, label: cab.label, enabled: body.data.enabled };
      const res = await viaAdmin('PUT', `/admin/cabs/${encodeURIComponent(id)}?keepToken=true`, put);
      const ok = res.status < 300;
      audit(req, body.data.enabled ? 'cab.enable' : 'cab.disable', id, ok ? undefined : { status: res.status }, ok ? 'ok' : 'refused');
      deps.fleetChanged();
      if (!ok) return reply.code(res.status).send(res.body);
      const after = await deps.store.getCab(id);
      return { cab: after ? cabView(after, deps.isOnline(id)) : null };
    });

    api.delete('/console/api/cabs/:cabId', route('admin'), async (req, reply) => {
      const id = parseCab(req, reply);
      if (id === null) return reply;
      const res = await viaAdmin('DELETE', `/admin/cabs/${encodeURIComponent(id)}`);
      audit(req, 'cab.delete', id, res.status === 200 ? undefined : { status: res.status }, res.status === 200 ? 'ok' : 'refused');
      deps.fleetChanged();
      return reply.code(res.status).send(res.body);
    });

    api.get('/console/api/audit', route('operator'), async (req, reply) => {
      const query = auditQuery.safeParse(req.query ?? {});
      if (!query.success) return reply.code(400).send(errorBody('invalid_query', issues(query.error)));
      return { entries: operators.auditLog({ limit: query.data.limit, beforeId: query.data.before, target: query.data.target }) };
    });

    api.get('/console/api/operators', route('admin'), async () => ({ operators: operators.list() }));

    // Anything else under the API is an unknown route, answered inside the guard's scope.
    api.all('/console/api/*', route('public'), async (req, reply) =>
      reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)),
    );
  });
}
