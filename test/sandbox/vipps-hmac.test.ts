import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signVippsRequest } from '../../backend-relay/sandbox/vipps/hmac.js';

describe('signVippsRequest', () => {
  it('matches the worked example in the Vipps MobilePay "Request authentication" docs', () => {
    // developer.vippsmobilepay.com/docs/APIs/webhooks-api/request-authentication
    const headers = signVippsRequest({
      secret: 'A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==',
      method: 'POST',
      pathAndQuery: '/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63',
      host: 'webhook.site',
      date: 'Thu, 30 Mar 2023 08:38:32 GMT',
      body: JSON.stringify({ 'some-unique-content': 'ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world' }),
    });
    expect(headers).toEqual({
      'x-ms-date': 'Thu, 30 Mar 2023 08:38:32 GMT',
      'x-ms-content-sha256': 'lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=',
      authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=',
    });
  });

  it('signs method, path and query, date, host with port, and the body hash, keyed by the secret as text', () => {
    const input = {
      secret: 's3cr3t==',
      method: 'post',
      pathAndQuery: '/hooks/vipps?cab=7',
      host: '127.0.0.1:4567',
      date: 'Mon, 01 Jan 2024 00:00:00 GMT',
      body: '{"a":1}',
    };
    const hash = createHash('sha256').update('{"a":1}').digest('base64');
    const expected = createHmac('sha256', Buffer.from('s3cr3t==', 'utf8'))
      .update(`POST\n/hooks/vipps?cab=7\nMon, 01 Jan 2024 00:00:00 GMT;127.0.0.1:4567;${hash}`)
      .digest('base64');
    const headers = signVippsRequest(input);
    expect(headers['x-ms-content-sha256']).toBe(hash);
    expect(headers.authorization).toBe(`HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${expected}`);
    // Any change to a signed part changes the signature.
    expect(signVippsRequest({ ...input, host: '127.0.0.1:4568' }).authorization).not.toBe(headers.authorization);
    expect(signVippsRequest({ ...input, body: '{"a":2}' }).authorization).not.toBe(headers.authorization);
    expect(signVippsRequest({ ...input, pathAndQuery: '/hooks/vipps' }).authorization).not.toBe(headers.authorization);
  });
});
