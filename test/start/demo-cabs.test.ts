/**
 * The real `npm start` (scripts/start.ts) with its three demo cabs, one per PSP: registered at the
 * relay with the right PSP, each kiosk preview serving the UI and bridging its own cab's core,
 * connected to the relay; and a restart on the same home keeps the cabs and their QR content.
 * Needs the built renderer (`npm run build:renderer`).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { repoRoot } from '../../scripts/lib/service.js';
import { startDemoStack, type DemoCab, type DemoStack } from '../helpers/demo.js';

const stacks: DemoStack[] = [];
afterAll(async () => {
  for (const stack of stacks.splice(0)) await stack.stop();
});

interface AdminCab {
  cabId: string;
  psp: string;
  qrCodes: string[];
  qrContent: string | null;
  plate: string;
  online: boolean;
}

async function adminCabs(stack: DemoStack): Promise<AdminCab[]> {
  const token = readFileSync(join(stack.home, 'relay-admin-token'), 'utf8').trim();
  const res = await fetch(`${stack.relayUrl}/admin/cabs`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { cabs: AdminCab[] }).cabs.sort((a, b) => a.cabId.localeCompare(b.cabId));
}

/** Reads bridge states until one satisfies `until` (the kiosk connects to the relay shortly after start). */
function bridgeSnapshot(kioskUrl: string, until: (s: KioskSnapshot) => boolean): Promise<KioskSnapshot> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${kioskUrl.replace(/^http/, 'ws')}/bridge`, { origin: kioskUrl });
    let last: KioskSnapshot | null = null;
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`no bridge state from ${kioskUrl} matched; last: ${JSON.stringify(last)}`));
    }, 60_000);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type: string; snapshot?: KioskSnapshot };
      if (msg.type !== 'state' || !msg.snapshot) return;
      last = msg.snapshot;
      if (until(msg.snapshot)) {
        clearTimeout(timer);
        ws.close();
        resolve(msg.snapshot);
      }
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const expected: Record<string, { psp: string; currency: string; locale: string; plate: string }> = {
  'demo-1': { psp: 'hips', currency: 'SEK', locale: 'sv', plate: 'ABC 123' },
  'demo-vipps': { psp: 'vipps', currency: 'NOK', locale: 'nb', plate: 'EL 12345' },
  'demo-hitpay': { psp: 'hitpay', currency: 'SGD', locale: 'en', plate: 'SHA 1234 A' },
};

describe('npm start: three demo cabs', () => {
  let home: string;
  let first: DemoStack;
  // Fixed ports for both runs: QR content carries the sandbox's URL, so a restart compares like with like.
  let ports: Record<string, string>;

  it('registers a Hips, a Vipps and a HitPay cab, each with its own kiosk preview bridged to its own core', { timeout: 180_000 }, async () => {
    expect(existsSync(join(repoRoot, 'renderer/dist/index.html')), 'build the renderer first: npm run build:renderer').toBe(true);
    ports = { SANDBOX_PORT: String(await freePort()), RELAY_PORT: String(await freePort()) };
    first = await startDemoStack(ports);
    stacks.push(first);
    home = first.home;

    // The READY line: the old top-level fields are still demo-1's, and every cab is listed.
    expect(first.cabId).toBe('demo-1');
    expect(first.cabs.map((c) => c.cabId)).toEqual(['demo-1', 'demo-vipps', 'demo-hitpay']);
    const byId = new Map<string, DemoCab>(first.cabs.map((c) => [c.cabId, c]));
    expect(byId.get('demo-1')).toMatchObject({
      psp: 'hips',
      currency: 'SEK',
      locale: 'sv',
      kioskUrl: first.kioskUrl,
      qrContent: first.qrData,
      passengerUrl: first.passengerUrl,
    });
    const vipps = byId.get('demo-vipps')!;
    expect(vipps).toMatchObject({ psp: 'vipps', currency: 'NOK', locale: 'nb' });
    expect(vipps.qrContent).toBe(`${first.sandboxUrl}/vipps/qr/123456/cabpay-demo-vipps`);
    expect(vipps.passengerUrl).toBe(`${first.sandboxUrl}/vipps/app?qr=${encodeURIComponent(vipps.qrContent!)}`);
    expect(byId.get('demo-hitpay')).toMatchObject({ psp: 'hitpay', currency: 'SGD', locale: 'en', qrContent: null });
    expect(byId.get('demo-hitpay')!.passengerUrl).toBeUndefined();
    expect(new Set(first.cabs.map((c) => c.kioskUrl)).size).toBe(3);
    const printed = first.output.join('\n');
    expect(printed).toContain(`${first.sandboxUrl}/vipps/app`);
    expect(printed).toContain(`${first.sandboxUrl}/hitpay/paynow/<id>`);

    // The relay knows all three with the right PSP; the Vipps cab's QR was made at the sandbox.
    const cabs = await adminCabs(first);
    expect(cabs.map((c) => [c.cabId, c.psp])).toEqual([
      ['demo-1', 'hips'],
      ['demo-hitpay', 'hitpay'],
      ['demo-vipps', 'vipps'],
    ]);
    expect(cabs.find((c) => c.cabId === 'demo-vipps')).toMatchObject({ qrCodes: ['cabpay-demo-vipps'], qrContent: vipps.qrContent, plate: 'EL 12345' });
    expect(cabs.find((c) => c.cabId === 'demo-hitpay')).toMatchObject({ qrCodes: [], qrContent: null });
    const qrAtSandbox = await fetch(vipps.qrContent!, { redirect: 'manual' });
    expect(qrAtSandbox.status).toBe(302);
    expect(qrAtSandbox.headers.get('location')).toBe(`/vipps/app?qr=${encodeURIComponent(vipps.qrContent!)}`);

    for (const cab of first.cabs) {
      const page = await fetch(`${cab.kioskUrl}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      // Its own core, with the PSP's capabilities, online with the device token npm start wrote.
      const snapshot = await bridgeSnapshot(cab.kioskUrl, (s) => s.connectivity.relay === 'online');
      const want = expected[cab.cabId]!;
      expect(snapshot.cab).toMatchObject({ cabId: cab.cabId, psp: want.psp, plate: want.plate, qrContent: cab.qrContent });
      expect(snapshot.currency).toBe(want.currency);
      expect(snapshot.locale).toBe(want.locale);
      expect(snapshot.cab.capabilities.staticQr).toBe(cab.psp !== 'hitpay');
      expect(snapshot.location).not.toBeNull();
    }
    expect((await adminCabs(first)).every((c) => c.online)).toBe(true);
  });

  it('a restart on the same home reuses the cabs and their QR content', { timeout: 180_000 }, async () => {
    expect(first, 'the first test must have started the stack').toBeDefined();
    const before = await adminCabs(first);
    await first.stop();
    stacks.splice(stacks.indexOf(first), 1);

    const again = await startDemoStack(ports, { home });
    stacks.push(again);
    expect(again.home).toBe(home);
    expect(again.qrData).toBe(first.qrData);
    expect(again.cabs.map((c) => [c.cabId, c.qrContent])).toEqual(first.cabs.map((c) => [c.cabId, c.qrContent]));
    const after = await adminCabs(again);
    expect(after.map((c) => [c.cabId, c.psp, c.qrContent])).toEqual(before.map((c) => [c.cabId, c.psp, c.qrContent]));
    // The kiosks come back with their own (new) device tokens and their old data dirs.
    for (const cab of again.cabs) {
      const snapshot = await bridgeSnapshot(cab.kioskUrl, (s) => s.connectivity.relay === 'online');
      expect(snapshot.cab.cabId).toBe(cab.cabId);
      expect(existsSync(join(home, `kiosk-${cab.cabId}`))).toBe(true);
    }
    await again.stop();
    stacks.splice(stacks.indexOf(again), 1);
    rmSync(home, { recursive: true, force: true });
  });
});
