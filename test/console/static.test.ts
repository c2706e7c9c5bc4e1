/** The console's files: served under /console/ with the strict CSP, and a clear 503 when the console is not built. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../backend-relay/console/index.js';
import { makeSigner, startInProcess, tempDir } from '../relay/helpers.js';

describe('console files', () => {
  it('serves the built console with a CSP that allows no inline script, framing or foreign origin', async () => {
    const dir = tempDir('cabpay-console-static-');
    const built = path.join(dir, 'console');
    mkdirSync(path.join(built, 'assets'), { recursive: true });
    writeFileSync(path.join(built, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/console/assets/app.js"></script>');
    writeFileSync(path.join(built, 'assets', 'app.js'), 'export {};');
    const { app, url } = await startInProcess(dir, await makeSigner(dir), { console: { dir: built } });
    try {
      const redirect = await fetch(`${url}/console`, { redirect: 'manual' });
      expect(redirect.status).toBe(301);
      expect(redirect.headers.get('location')).toBe('/console/');
      const page = await fetch(`${url}/console/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(CONSOLE_CSP).toContain("script-src 'self'");
      expect(CONSOLE_CSP).not.toContain('unsafe-inline');
      expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const asset = await fetch(`${url}/console/assets/app.js`);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      await app.close();
    }
  });

  it('answers 503 saying how to build the console when its files are missing', async () => {
    const dir = tempDir('cabpay-console-unbuilt-');
    const { app, url } = await startInProcess(dir, await makeSigner(dir), { console: { dir: path.join(dir, 'nothing-here') } });
    try {
      const res = await fetch(`${url}/console/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:console');
      // The API works without the files.
      expect((await fetch(`${url}/console/api/session`)).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});
