import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { call, testSandbox } from './helpers.js';

let sb: Sandbox;
beforeEach(async () => {
  sb = await testSandbox();
});
afterEach(async () => {
  await sb.close();
});

describe('GET /pay (passenger phone page)', () => {
  it('is one self-contained HTML document with the stable test ids', async () => {
    const res = await fetch(`${sb.url}/pay?qr=${encodeURIComponent('x/y')}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    for (const id of [
      'scan-state',
      'order-amount',
      'tip-0',
      'tip-5',
      'tip-10',
      'tip-15',
      'tip-20',
      'tip-custom',
      'pay-button',
      'paid-total',
      'down-text',
      'tip-hint',
      'cancel-button',
    ]) {
      expect(html, id).toContain(`data-testid="${id}"`);
    }
    expect(html).toContain('Tip optional, up to 20% of');
    expect(html).toContain('width=device-width');
    // No external assets: nothing is loaded from another origin or file.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    // The inline script parses.
    const script = html.slice(html.indexOf('<script>') + 8, html.indexOf('</script>'));
    expect(() => new Function(script)).not.toThrow();
  });

  it('answers unknown routes with a JSON error', async () => {
    const res = await call(sb.url, 'GET', '/nowhere');
    expect(res.status).toBe(404);
    expect(res.body.error.type).toBe('not_found_error');
  });
});
