/**
 * `Authorization: Bearer <secret>` for the admin API and /metrics. Wrong tokens are counted per
 * address: past the limit every request from there gets 429 until the window ends, before the
 * token is even compared, so guessing stops paying.
 */
import type { FastifyReply, onRequestHookHandler } from 'fastify';
import type { FailureLimit } from '../rate-limits.js';
import { secretsEqual } from '../secrets.js';
import { errorBody } from './errors.js';

export function tooManyFailures(reply: FastifyReply, retryAfterS: number, what: string): FastifyReply {
  return reply
    .code(429)
    .header('retry-after', String(retryAfterS))
    .send(errorBody('rate_limited', `too many ${what} from this address; retry in ${retryAfterS} s`));
}

export function requireBearer(secret: string, failures: FailureLimit | null, hint: string): onRequestHookHandler {
  return async (req, reply) => {
    const wait = failures ? await failures.retryAfterS(req.ip) : 0;
    if (wait > 0) return tooManyFailures(reply, wait, 'wrong tokens');
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!presented || !secretsEqual(presented, secret)) {
      await failures?.failed(req.ip);
      return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('unauthorized', hint));
    }
  };
}
