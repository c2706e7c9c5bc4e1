/**
 * Who may call a console API route. Every route declares the least role it needs in its config
 * (`access`); a route without one is refused, so a forgotten declaration denies rather than
 * allows. A session comes from the HttpOnly cookie; a request that changes anything must also
 * come from the console's own origin and carry the session's CSRF token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../http/errors.js';
import { roleAllows, type OperatorRole, type OperatorStore, type Session } from './operator-store.js';

export const SESSION_COOKIE = 'cabpay_console';
export const CSRF_HEADER = 'x-csrf-token';

/** `public`: no session (login); `session`: any logged-in operator, even one who must change the password first. */
export type Access = OperatorRole | 'public' | 'session';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    consoleSession?: Session;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GuardDeps {
  operators: OperatorStore;
  /** The console's origin when the relay has a public URL; otherwise the request's own Host. */
  publicOrigin: string | null;
  now: () => number;
  /** Writes a refused attempt to the audit log. */
  refused(req: FastifyRequest, action: string, detail: Record<string, unknown>): void;
}

export function expectedOrigin(req: FastifyRequest, publicOrigin: string | null): string {
  return publicOrigin ?? `${req.protocol}://${req.headers.host ?? ''}`;
}

/** Null when the request comes from the console's origin; else why it is refused. */
export function originProblem(req: FastifyRequest, publicOrigin: string | null): string | null {
  const origin = req.headers.origin;
  if (!origin) return 'the request has no Origin header; changes are accepted only from the console page';
  if (origin !== expectedOrigin(req, publicOrigin))
    return `requests from ${origin} are refused; use the console at ${expectedOrigin(req, publicOrigin)}/console/`;
  return null;
}

export function consoleGuard(deps: GuardDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const access = req.routeOptions.config.access;
    if (!access) return reply.code(403).send(errorBody('forbidden', 'this route declares no access rule, so it is refused'));
    const unsafe = !SAFE_METHODS.has(req.method);
    if (unsafe) {
      const problem = originProblem(req, deps.publicOrigin);
      if (problem) {
        deps.refused(req, 'origin_refused', { method: req.method, route: req.routeOptions.url, origin: req.headers.origin ?? null });
        return reply.code(403).send(errorBody('bad_origin', problem));
      }
    }
    if (access === 'public') return;
    const token = req.cookies[SESSION_COOKIE];
    const session = token ? deps.operators.touchSession(token, deps.now()) : null;
    if (!session) {
      return reply.code(401).send(errorBody('not_logged_in', token ? 'your session has ended; log in again' : 'log in to the console first'));
    }
    req.consoleSession = session;
    if (unsafe && req.headers[CSRF_HEADER] !== session.csrfToken) {
      deps.refused(req, 'csrf_refused', { method: req.method, route: req.routeOptions.url });
      return reply.code(403).send(errorBody('bad_csrf_token', `the ${CSRF_HEADER} header is missing or wrong; reload the console and try again`));
    }
    if (access === 'session') return;
    if (session.operator.mustChangePassword) {
      return reply.code(403).send(errorBody('password_change_required', 'change your one-time password first'));
    }
    if (!roleAllows(session.operator.role, access)) {
      deps.refused(req, 'role_refused', { method: req.method, route: req.routeOptions.url, role: session.operator.role, needed: access });
      return reply
        .code(403)
        .send(
          errorBody(
            'forbidden',
            `this needs the ${access} role; you are ${session.operator.role === 'admin' ? 'an' : 'a'} ${session.operator.role}. Ask an admin.`,
          ),
        );
    }
  };
}
