/**
 * `npm start`'s cab provisioning against a stand-in relay: a cab the relay cannot set up is an
 * error that names that cab and what to do, and an answer without the Vipps QR is refused.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_CABS, provisionDemoCabs } from '../../scripts/lib/demo-cabs.js';

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((done) => s.close(done));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A relay whose PUT /admin/cabs/<id> answers what `answers[id]` says. */
async function fakeRelay(answers: Record<string, { status: number; body: unknown }>): Promise<{ url: string; puts: Array<{ cabId: string; body: unknown }> }> {
  const puts: Array<{ cabId: string; body: unknown }> = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const cabId = decodeURIComponent((req.url ?? '').replace('/admin/cabs/', ''));
      puts.push({ cabId, body: JSON.parse(raw) });
      const answer = answers[cabId] ?? { status: 404, body: { error: { code: 'not_found' } } };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, puts };
}

const relayMade = DEMO_CABS.filter((c) => c.psp !== 'hips');
const token = 'd'.repeat(32);

function args(relayUrl: string) {
  const home = mkdtempSync(join(tmpdir(), 'cabpay-provision-'));
  dirs.push(home);
  return { home, sandboxUrl: 'http://127.0.0.1:9', relayUrl, merchantKey: 'sk_sandbox_x', adminToken: 'a'.repeat(32) };
}

describe('provisionDemoCabs', () => {
  it('sends each cab its PSP, QR codes, plate and label, and returns the Vipps QR content', async () => {
    const qrContent = 'http://sandbox/vipps/qr/123456/cabpay-demo-vipps';
    const relay = await fakeRelay({
      'demo-vipps': { status: 201, body: { cabId: 'demo-vipps', deviceToken: token, qrContent } },
      'demo-hitpay': { status: 201, body: { cabId: 'demo-hitpay', deviceToken: token, qrContent: null } },
    });
    const cabs = await provisionDemoCabs(args(relay.url), relayMade);
    expect(relay.puts.sort((a, b) => a.cabId.localeCompare(b.cabId))).toEqual([
      { cabId: 'demo-hitpay', body: { psp: 'hitpay', qrCodes: [], plate: 'SHA 1234 A', label: 'Cab 3', currency: 'SGD' } },
      { cabId: 'demo-vipps', body: { psp: 'vipps', qrCodes: ['cabpay-demo-vipps'], plate: 'EL 12345', label: 'Cab 2', currency: 'NOK' } },
    ]);
    expect(cabs.map((c) => [c.spec.cabId, c.qrContent, c.passengerUrl])).toEqual([
      ['demo-vipps', qrContent, `http://127.0.0.1:9/vipps/app?qr=${encodeURIComponent(qrContent)}`],
      ['demo-hitpay', null, null],
    ]);
    expect(cabs[1]!.passengerHelp).toContain('http://127.0.0.1:9/hitpay/paynow/<id>');
  });

  it('names the cab the relay could not set up, and what to do', async () => {
    const relay = await fakeRelay({
      'demo-vipps': { status: 502, body: { error: { code: 'psp_provisioning_failed', message: 'vipps could not set up this cab' } } },
      'demo-hitpay': { status: 201, body: { cabId: 'demo-hitpay', deviceToken: token } },
    });
    const error = await provisionDemoCabs(args(relay.url), relayMade).then(
      () => null,
      (err: Error) => err,
    );
    expect(error?.message).toContain('cab demo-vipps (vipps)');
    expect(error?.message).toContain('answered 502');
    expect(error?.message).toContain('psp_provisioning_failed');
    expect(error?.message).toContain('run npm start again');
    expect(error?.message).not.toContain('demo-hitpay');
  });

  it('refuses a Vipps cab the relay registered without a QR content', async () => {
    const relay = await fakeRelay({ 'demo-vipps': { status: 201, body: { cabId: 'demo-vipps', deviceToken: token } } });
    await expect(
      provisionDemoCabs(
        args(relay.url),
        relayMade.filter((c) => c.psp === 'vipps'),
      ),
    ).rejects.toThrow(/cab demo-vipps \(vipps\): the relay registered the cab but returned no qrContent: is its Vipps group \(VIPPS_\*\) configured\?/);
  });

  it('names an unreachable relay', async () => {
    await expect(
      provisionDemoCabs(
        args('http://127.0.0.1:9'),
        relayMade.filter((c) => c.psp === 'hitpay'),
      ),
    ).rejects.toThrow(/cab demo-hitpay \(hitpay\): PUT http:\/\/127\.0\.0\.1:9\/admin\/cabs\/demo-hitpay failed/);
  });
});
