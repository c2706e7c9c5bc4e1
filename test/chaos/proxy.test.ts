/** The tablet's cuttable network: traffic passes, a cut breaks open connections and refuses new ones, restore lets them in. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CuttableProxy } from '../../scripts/chaos/proxy.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function upstream(): Promise<{ url: string; server: Server }> {
  // Answers /slow only after a long while, so a cut can land mid-request.
  const server = createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('late'), 5_000);
    else res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r(null));
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('CuttableProxy', () => {
  it('passes traffic, breaks and refuses it while cut, and passes it again once restored', async () => {
    const { url } = await upstream();
    const proxy = await CuttableProxy.start(url);
    cleanups.push(() => proxy.close());
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${proxy.url}/`)).text()).toBe('hello');

    const inFlight = fetch(`${proxy.url}/slow`).then(
      () => 'answered',
      () => 'broken',
    );
    await new Promise((r) => setTimeout(r, 200));
    proxy.cutOff();
    expect(proxy.isCut).toBe(true);
    expect(await inFlight).toBe('broken');
    await expect(fetch(`${proxy.url}/`)).rejects.toThrow();

    proxy.restore();
    expect(await (await fetch(`${proxy.url}/`)).text()).toBe('hello');
  });
});
