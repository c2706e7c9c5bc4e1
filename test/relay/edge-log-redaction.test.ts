/**
 * Secrets in URLs stay out of the log, read from a real relay process's output: an admin or a
 * device token put in a query string, and the token of every receipt viewed.
 */
import path from 'node:path';
import { io as ioClient } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { redactUrl } from '../../backend-relay/logger.js';
import { newReceiptToken } from '../../electron/core/receipts.js';
import { CAB_NAMESPACE } from '../../protocol/relay-protocol.js';
import { ADMIN_TOKEN, addCab, connectTablet, makeSigner, spawnRelay, tempDir, until, waitForConnect } from './helpers.js';

describe('secrets in URLs and the log', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('never writes an admin token, a device token or a receipt token from a URL to the log', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const relay = await spawnRelay({ RELAY_DB: path.join(dir, 'relay.db'), HIPS_PUBLIC_KEY_FILE: signer.pemFile });
    cleanups.push(() => relay.child.kill('SIGKILL'));
    const deviceToken = await addCab(relay.url, 'cab-log');
    const tablet = connectTablet(relay.url, 'cab-log', deviceToken);
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);

    const receiptToken = newReceiptToken();
    const rideId = 'ride-log-1';
    const ack = await tablet.socket.timeout(5_000).emitWithAck('receipt.publish', {
      rideId,
      merchantOrderId: `cab-log.${rideId}`,
      token: receiptToken,
      driverId: null,
      startedAt: '2026-11-21T17:05:00.000Z',
      endedAt: '2026-11-21T17:31:00.000Z',
      paidAt: '2026-11-21T17:32:00.000Z',
      currency: 'SEK',
      lines: [{ id: 'fare', kind: 'fare', label: 'Taxiresa', amount: 10_000, vatRate: 6 }],
      orderAmount: 10_000,
      tipAmount: 0,
      totalAmount: 10_000,
      method: 'other',
      psp: null,
      pspReference: null,
      locale: 'sv',
    });
    expect(ack).toMatchObject({ ok: true });

    const requests = [
      `/admin/cabs?token=${ADMIN_TOKEN}`,
      `/admin/cabs?keepToken=true&access_token=${ADMIN_TOKEN}&x`,
      `/updates/cab-log/latest-linux.yml?token=${deviceToken}`,
      `/receipts/${receiptToken}`,
      `/receipts/${receiptToken}?utm=1`,
      `/healthz?deviceToken=${deviceToken}`,
    ];
    const statuses = [];
    for (const route of requests) statuses.push((await fetch(`${relay.url}${route}`)).status);
    expect(statuses).toEqual([401, 401, 401, 200, 200, 200]);
    // A socket whose URL carries the device token (Socket.IO's `query`).
    const socket = ioClient(`${relay.url}${CAB_NAMESPACE}`, {
      transports: ['websocket'],
      query: { token: deviceToken },
      auth: { cabId: 'cab-log', token: 'wrong', lastSeq: 0 },
      reconnection: false,
      forceNew: true,
    });
    cleanups.push(() => socket.close());
    await new Promise((resolve) => socket.once('connect_error', resolve));

    // Every request was logged (with its URL redacted) before we look for the secrets.
    await until(() => (relay.output().match(/"msg":"request completed"/g)?.length ?? 0) >= requests.length + 1, 'the request log lines');
    const log = relay.output();
    expect(log).toContain(`"url":"/receipts/[redacted]"`);
    expect(log).toContain(`"url":"/admin/cabs?token=[redacted]"`);
    expect(log).toContain(`"url":"/admin/cabs?keepToken=true&access_token=[redacted]&x"`);
    for (const [name, secret] of [
      ['admin token', ADMIN_TOKEN],
      ['device token', deviceToken],
      ['receipt token', receiptToken],
    ]) {
      expect(log.includes(secret!), `${name} in the log`).toBe(false);
    }
  });

  it('redacts receipt tokens and query values, keeping the relay’s own plain parameters', () => {
    expect(redactUrl('/receipts/abc_DEF-123')).toBe('/receipts/[redacted]');
    expect(redactUrl('/receipts/abc/x?y=1')).toBe('/receipts/[redacted]/x?y=[redacted]');
    expect(redactUrl('/admin/cabs/c1?keepToken=1')).toBe('/admin/cabs/c1?keepToken=1');
    expect(redactUrl('/webhooks/vipps?sig=s3cret&flag')).toBe('/webhooks/vipps?sig=[redacted]&flag');
    expect(redactUrl('/healthz')).toBe('/healthz');
  });
});
