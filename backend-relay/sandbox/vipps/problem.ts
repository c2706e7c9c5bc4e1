/**
 * Vipps MobilePay errors: RFC 7807 problem+json `{type, title, status, detail, instance, traceId,
 * extraDetails}` as the ePayment API sends them (`type` = https://httpstatuses.io/<status>).
 */
import type { FastifyReply } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { zodIssueList, zodIssuesText } from '../../../protocol/zod-issues.js';

export interface ExtraDetail {
  name: string;
  reason: string;
}

export class VippsProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extraDetails: ExtraDetail[] = [],
  ) {
    super(`${title}: ${detail}`);
  }

  toBody(instance: string) {
    return {
      type: `https://httpstatuses.io/${this.status}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      instance,
      traceId: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
      extraDetails: this.extraDetails,
    };
  }
}

export function sendProblem(reply: FastifyReply, problem: VippsProblem, instance: string): FastifyReply {
  return reply.code(problem.status).header('content-type', 'application/problem+json').send(problem.toBody(instance));
}

export const invalidRequest = (title: string, detail: string, extra: ExtraDetail[] = []) => new VippsProblem(400, title, detail, extra);

/** Parses input or throws a 400 problem naming every bad field and what it must be. */
export function parseOrProblem<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const extra = zodIssueList(result.error, { root: '(body)' }).map(({ where, message }) => ({ name: where, reason: message }));
  throw invalidRequest('Validation error', `The ${what} is invalid: ${zodIssuesText(result.error, { root: '(body)' })}.`, extra);
}
