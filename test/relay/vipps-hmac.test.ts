/** Vipps webhook HMAC verification (pure): the documented worked example, then every refusal. */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentSha256, parseRfc1123, signVippsRequest, verifyVippsHmac, vippsSignature, vippsSignedString } from '../../backend-relay/psp/vipps-hmac.js';
import { signVippsRequest as sandboxSign } from '../../backend-relay/sandbox/vipps/hmac.js';

/**
 * developer.vippsmobilepay.com, Webhooks API, "Request authentication": the sample request and
 * the values the page says each step evaluates to.
 */
const DOCS = {
  secret: 'A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==',
  body: JSON.stringify({ 'some-unique-content': 'ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world' }),
  pathAndQuery: '/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63',
  host: 'webhook.site',
  date: 'Thu, 30 Mar 2023 08:38:32 GMT',
  contentHash: 'lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=',
  authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=',
};
const DOCS_NOW = new Date('2023-03-30T08:40:00Z');

const docsRequest = (over: Partial<{ body: string; pathAndQuery: string; method: string; headers: Record<string, string | string[] | undefined> }> = {}) => ({
  method: over.method ?? 'POST',
  pathAndQuery: over.pathAndQuery ?? DOCS.pathAndQuery,
  rawBody: Buffer.from(over.body ?? DOCS.body),
  headers: over.headers ?? { 'x-ms-date': DOCS.date, 'x-ms-content-sha256': DOCS.contentHash, authorization: DOCS.authorization, host: 'ignored.example' },
});

describe('Vipps HMAC: the documented example', () => {
  it('computes each documented intermediate value', () => {
    expect(contentSha256(DOCS.body)).toBe(DOCS.contentHash);
    const signed = vippsSignedString('POST', DOCS.pathAndQuery, DOCS.date, DOCS.host, DOCS.contentHash);
    expect(signed).toBe(`POST\n/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63\nThu, 30 Mar 2023 08:38:32 GMT;webhook.site;${DOCS.contentHash}`);
    expect(vippsSignature(DOCS.secret, signed)).toBe('agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=');
  });

  it('accepts the documented request, keyed by the secret as UTF-8 text (not base64-decoded)', () => {
    expect(verifyVippsHmac(docsRequest(), [DOCS.secret], DOCS.host, DOCS_NOW)).toEqual({ ok: true });
    // The same secret decoded from base64 as the key gives another signature.
    const decodedKey = createHmac('sha256', Buffer.from(DOCS.secret, 'base64'))
      .update(vippsSignedString('POST', DOCS.pathAndQuery, DOCS.date, DOCS.host, DOCS.contentHash))
      .digest('base64');
    expect(DOCS.authorization.endsWith(decodedKey)).toBe(false);
  });

  it('accepts any of several secrets (the configured one and the registered one)', () => {
    expect(verifyVippsHmac(docsRequest(), ['another-secret', DOCS.secret], DOCS.host, DOCS_NOW)).toEqual({ ok: true });
    expect(verifyVippsHmac(docsRequest(), ['another-secret'], DOCS.host, DOCS_NOW).ok).toBe(false);
  });

  it('signs what it verifies, and agrees with the sandbox signer', () => {
    const at = new Date('2024-05-01T10:00:00Z');
    const body = '{"msn":"123456"}';
    const ours = signVippsRequest({ secret: 's3cret', pathAndQuery: '/webhooks/vipps', host: 'relay.example:8443', rawBody: body, date: at });
    const theirs = sandboxSign({ secret: 's3cret', method: 'POST', pathAndQuery: '/webhooks/vipps', host: 'relay.example:8443', date: at.toUTCString(), body });
    expect(theirs).toEqual(ours);
    const req = { method: 'POST', pathAndQuery: '/webhooks/vipps', rawBody: Buffer.from(body), headers: { ...ours } };
    expect(verifyVippsHmac(req, ['s3cret'], 'relay.example:8443', at)).toEqual({ ok: true });
  });
});

describe('Vipps HMAC: refusals', () => {
  const refused = (result: { ok: boolean; message?: string }, pattern: RegExp) => {
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toMatch(pattern);
  };

  it('a date more than 5 minutes old is refused (a replay)', () => {
    refused(verifyVippsHmac(docsRequest(), [DOCS.secret], DOCS.host, new Date('2023-03-30T08:43:33Z')), /more than 5 minutes/);
    // Just inside the window still passes.
    expect(verifyVippsHmac(docsRequest(), [DOCS.secret], DOCS.host, new Date('2023-03-30T08:43:31Z')).ok).toBe(true);
  });

  it('a date more than 5 minutes in the future is refused', () => {
    refused(verifyVippsHmac(docsRequest(), [DOCS.secret], DOCS.host, new Date('2023-03-30T08:33:31Z')), /more than 5 minutes/);
  });

  it('a tampered body is refused even with its hash header updated', () => {
    const body = DOCS.body.replace('hello', 'hellp');
    refused(verifyVippsHmac(docsRequest({ body }), [DOCS.secret], DOCS.host, DOCS_NOW), /does not match x-ms-content-sha256/);
    const headers = { 'x-ms-date': DOCS.date, 'x-ms-content-sha256': createHash('sha256').update(body).digest('base64'), authorization: DOCS.authorization };
    refused(verifyVippsHmac(docsRequest({ body, headers }), [DOCS.secret], DOCS.host, DOCS_NOW), /signature does not match/);
  });

  it('a tampered path or query is refused', () => {
    refused(verifyVippsHmac(docsRequest({ pathAndQuery: '/e2cee29b-012e-4f1d-8ef4-e95fd74a7a64' }), [DOCS.secret], DOCS.host, DOCS_NOW), /signature/);
    refused(verifyVippsHmac(docsRequest({ pathAndQuery: `${DOCS.pathAndQuery}?x=1` }), [DOCS.secret], DOCS.host, DOCS_NOW), /signature/);
  });

  it('another method is refused', () => {
    refused(verifyVippsHmac(docsRequest({ method: 'PUT' }), [DOCS.secret], DOCS.host, DOCS_NOW), /signature/);
  });

  it('the wrong host (or a port the signer did not use) is refused', () => {
    refused(verifyVippsHmac(docsRequest(), [DOCS.secret], 'evil.example', DOCS_NOW), /signature/);
    refused(verifyVippsHmac(docsRequest(), [DOCS.secret], 'webhook.site:8443', DOCS_NOW), /signature/);
  });

  it.each(['x-ms-date', 'x-ms-content-sha256', 'authorization'])('a missing %s header is refused', (name) => {
    const headers: Record<string, string | undefined> = { 'x-ms-date': DOCS.date, 'x-ms-content-sha256': DOCS.contentHash, authorization: DOCS.authorization };
    delete headers[name];
    refused(verifyVippsHmac(docsRequest({ headers }), [DOCS.secret], DOCS.host, DOCS_NOW), /must each be sent once/);
  });

  it('a header sent twice is refused', () => {
    const headers = { 'x-ms-date': DOCS.date, 'x-ms-content-sha256': DOCS.contentHash, authorization: [DOCS.authorization, DOCS.authorization] };
    refused(verifyVippsHmac(docsRequest({ headers }), [DOCS.secret], DOCS.host, DOCS_NOW), /must each be sent once/);
  });

  const signature = DOCS.authorization.split('Signature=')[1]!;
  it.each([
    ['another scheme', `HMAC-SHA1 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`],
    ['other signed headers', `HMAC-SHA256 SignedHeaders=x-ms-date;x-ms-content-sha256&Signature=${signature}`],
    ['headers in another order', `HMAC-SHA256 SignedHeaders=host;x-ms-date;x-ms-content-sha256&Signature=${signature}`],
    ['lower-case scheme', `hmac-sha256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`],
    ['a trailing parameter', `${DOCS.authorization}&x=1`],
    ['a leading space', ` ${DOCS.authorization}`],
    ['a truncated signature', DOCS.authorization.slice(0, -2)],
    ['no signature', 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature='],
    ['a Bearer token', 'Bearer abc'],
  ])('a malformed Authorization (%s) is refused', (_name, authorization) => {
    const headers = { 'x-ms-date': DOCS.date, 'x-ms-content-sha256': DOCS.contentHash, authorization };
    refused(verifyVippsHmac(docsRequest({ headers }), [DOCS.secret], DOCS.host, DOCS_NOW), /Authorization header must read/);
  });

  it.each([
    ['ISO 8601', '2023-03-30T08:38:32Z'],
    ['a wrong weekday', 'Fri, 30 Mar 2023 08:38:32 GMT'],
    ['another zone', 'Thu, 30 Mar 2023 08:38:32 +0000'],
    ['no such day', 'Thu, 31 Feb 2023 08:38:32 GMT'],
  ])('an x-ms-date that is not RFC 1123 (%s) is refused', (_name, date) => {
    const headers = { 'x-ms-date': date, 'x-ms-content-sha256': DOCS.contentHash, authorization: DOCS.authorization };
    refused(verifyVippsHmac(docsRequest({ headers }), [DOCS.secret], DOCS.host, DOCS_NOW), /RFC 1123/);
  });

  it('a content hash that is not a base64 SHA-256 is refused', () => {
    const headers = { 'x-ms-date': DOCS.date, 'x-ms-content-sha256': 'abc', authorization: DOCS.authorization };
    refused(verifyVippsHmac(docsRequest({ headers }), [DOCS.secret], DOCS.host, DOCS_NOW), /base64 SHA-256/);
  });

  it('no known secret refuses everything and says how to fix it', () => {
    refused(verifyVippsHmac(docsRequest(), [], DOCS.host, DOCS_NOW), /VIPPS_WEBHOOK_SECRET/);
  });

  it('parses RFC 1123 strictly', () => {
    expect(parseRfc1123('Thu, 30 Mar 2023 08:38:32 GMT')?.toISOString()).toBe('2023-03-30T08:38:32.000Z');
    expect(parseRfc1123('Thu, 30 Mar 2023 24:00:00 GMT')).toBeNull();
    expect(parseRfc1123('Thu, 30 Mar 2023 08:38:32 GMT ')).toBeNull();
  });
});
