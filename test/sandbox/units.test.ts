import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestHash } from '../../backend-relay/sandbox/idempotency.js';
import { parseQrData } from '../../backend-relay/sandbox/qr-data.js';
import type { SandboxConfig } from '../../backend-relay/sandbox/sandbox-config.js';
import { qrData } from '../../backend-relay/sandbox/views.js';

const config: SandboxConfig = {
  publicUrl: 'https://pay.example.test:8443',
  merchantKey: 'k',
  merchantId: 'M0123ABCD',
  merchantName: 'Test',
  salesChannelId: 'sc',
  timeoutFloorSeconds: 60,
};

describe('QR data', () => {
  it('reads back every code and dynamic payload it writes', () => {
    const code = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
    const dynamic = fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), { nil: null });
    fc.assert(
      fc.property(code, dynamic, (qrCode, dyn) => {
        const text = dyn === null ? null : JSON.stringify(dyn);
        const parsed = parseQrData(qrData(config, { qr_code: qrCode, dynamic: text }));
        expect(parsed.merchantId).toBe(config.merchantId);
        expect(parsed.qrCode).toBe(qrCode);
        expect(parsed.dynamic === null ? null : JSON.parse(parsed.dynamic)).toEqual(dyn === null ? null : JSON.parse(text!));
      }),
    );
  });

  it('reads the self-generated form and rejects junk with a hint', () => {
    expect(parseQrData('ABC123/1?dynamic=%7B%22table%22%3A%227%22%7D')).toEqual({
      merchantId: 'ABC123',
      qrCode: '1',
      dynamic: '{"table":"7"}',
    });
    expect(() => parseQrData('justone')).toThrow(/must look like/);
    expect(() => parseQrData('M/1?dynamic=%7Bnot-json')).toThrow(/not JSON/);
  });
});

describe('idempotency request hash', () => {
  it('ignores object key order but not values', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(requestHash(reversed)).toBe(requestHash(obj));
        expect(requestHash({ ...obj, __changed: true })).not.toBe(requestHash(obj));
      }),
    );
  });
});
