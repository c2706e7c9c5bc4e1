import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ protocol: { registerSchemesAsPrivileged: vi.fn() } }));
const { answerAppRequest } = await import('../../electron/app-protocol.js');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-app-protocol-'));
  mkdirSync(path.join(dir, 'renderer', 'assets'), { recursive: true });
  writeFileSync(path.join(dir, 'renderer', 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(path.join(dir, 'renderer', 'assets', 'a-1.js'), 'export {}');
  writeFileSync(path.join(dir, 'secret.txt'), 'secret');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = () => ({ rendererDir: path.join(dir, 'renderer'), csp: "default-src 'self'" });

describe('app:// protocol', () => {
  it('serves the renderer with content types and the CSP', async () => {
    const index = await answerAppRequest('app://cabpay/index.html', opts());
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(await index.text()).toContain('<title>app</title>');
    const js = await answerAppRequest('app://cabpay/assets/a-1.js', opts());
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('refuses other hosts, traversal and missing files', async () => {
    expect((await answerAppRequest('app://other/index.html', opts())).status).toBe(404);
    for (const url of [
      'app://cabpay/%2e%2e/secret.txt',
      'app://cabpay/..%2fsecret.txt',
      'app://cabpay/../secret.txt',
      'app://cabpay/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    ]) {
      const res = await answerAppRequest(url, opts());
      expect(res.status, url).toBeGreaterThanOrEqual(400);
      expect(await res.text(), url).not.toContain('secret');
    }
    expect((await answerAppRequest('app://cabpay/missing.js', opts())).status).toBe(404);
  });
});
