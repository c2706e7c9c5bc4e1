/** HitPay hook verification and mapping, both styles, against values computed step by step. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodySignature, legacySignature, legacySignedString } from '../../backend-relay/psp/hitpay-hmac.js';
import { verifyHitpayHook } from '../../backend-relay/psp/hitpay-hook.js';
import type { HookVerdict, WebhookRequest } from '../../backend-relay/psp/psp-adapter.js';
import { jsonHitpaySignature, legacyHitpayHmac, legacySigningString } from '../../backend-relay/sandbox/hitpay/hmac.js';

const SALT = 'test-salt';

const fields = {
  payment_id: 'pay-1',
  payment_request_id: 'req-1',
  phone: '',
  amount: '12.34',
  currency: 'SGD',
  status: 'completed',
  reference_number: 'cab-1-ride-1-1',
};
/** Sorted by key, key+value without separators, `phone` with its empty value. */
const SIGNED_BY_HAND =
  'amount12.34' + 'currencySGD' + 'payment_idpay-1' + 'payment_request_idreq-1' + 'phone' + 'reference_numbercab-1-ride-1-1' + 'statuscompleted';
/** Computed once outside Node (Python's hmac) for the fields above and SALT. */
const LEGACY_HEX = '488bacaee784d811b859f58c0ae38b8c6b9d9ae9e96531f7815ee34c8f487532';

const jsonBody =
  '{"id":"req-1","status":"completed","amount":"12.34","currency":"sgd","reference_number":"cab-1-ride-1-1","payments":[{"id":"pay-1","status":"succeeded"}]}';
const JSON_HEX = '1989d9cd6e84e4567b51f235d5661b3d0df7bb41b5dc3f1430be016edcea76ea';

function formRequest(form: Record<string, string>, headers: Record<string, string> = {}): WebhookRequest {
  const raw = new URLSearchParams(form).toString();
  return {
    rawBody: Buffer.from(raw),
    body: Object.fromEntries(new URLSearchParams(raw)),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    method: 'POST',
    pathAndQuery: '/webhooks/hitpay',
  };
}

function jsonRequest(raw: string, headers: Record<string, string | undefined>): WebhookRequest {
  return {
    rawBody: Buffer.from(raw),
    body: JSON.parse(raw),
    headers: { 'content-type': 'application/json', ...headers },
    method: 'POST',
    pathAndQuery: '/webhooks/hitpay',
  };
}

const signedForm = (f: Record<string, string> = fields, salt = SALT): Record<string, string> => ({ ...f, hmac: legacySignature(f, salt) });

function verified(v: HookVerdict) {
  if (v.verdict !== 'verified') throw new Error(`expected verified, got ${v.verdict}: ${v.message}`);
  return v;
}

describe('HitPay legacy (form) hmac', () => {
  it('signs the sorted key+value string with HMAC-SHA256 of the salt, lowercase hex', () => {
    expect(legacySignedString({ ...fields, hmac: 'ignored' })).toBe(SIGNED_BY_HAND);
    const byHand = createHmac('sha256', SALT).update(SIGNED_BY_HAND).digest('hex');
    expect(byHand).toBe(LEGACY_HEX);
    expect(legacySignature(fields, SALT)).toBe(LEGACY_HEX);
  });

  it('agrees with the sandbox signer', () => {
    expect(legacySigningString(fields)).toBe(SIGNED_BY_HAND);
    expect(legacyHitpayHmac(fields, SALT)).toBe(LEGACY_HEX);
    const other = { ...fields, amount: '0.05', status: 'failed', payment_id: '' };
    expect(legacySignature(other, 'another salt')).toBe(legacyHitpayHmac(other, 'another salt'));
  });

  it('accepts the signed hook and maps a completed payment', () => {
    const v = verified(verifyHitpayHook(formRequest({ ...fields, hmac: LEGACY_HEX }), SALT));
    expect(v.route).toEqual({ by: 'payment', pspReference: 'req-1' });
    expect(v.event).toBeNull();
    expect(v.needsLiveCab).toBe(false);
    expect(v.dedupeKey).toBe('hitpay:req-1:pay-1:completed');
    expect(v.paymentUpdate).toEqual({
      pspReference: 'req-1',
      status: 'completed',
      amount: { value: 1234, currency: 'SGD' },
      pspPaymentId: 'pay-1',
      reference: 'cab-1-ride-1-1',
    });
    expect(v.auditData).not.toHaveProperty('hmac');
  });

  it('accepts the sandbox-signed form in any field order', () => {
    const reordered = Object.fromEntries(Object.entries(fields).reverse());
    const v = verifyHitpayHook(formRequest({ hmac: legacyHitpayHmac(fields, SALT), ...reordered }), SALT);
    expect(v.verdict).toBe('verified');
  });

  it.each([
    ['a tampered amount', { ...signedForm(), amount: '1.00' }],
    ['a tampered status', { ...signedForm({ ...fields, status: 'failed' }), status: 'completed' }],
    ['a tampered request id', { ...signedForm(), payment_request_id: 'req-2' }],
    ['an extra field', { ...signedForm(), extra: 'x' }],
    ['a removed field', (({ phone: _p, ...rest }) => rest)(signedForm())],
    ['no hmac', { ...fields }],
    ['an empty hmac', { ...fields, hmac: '' }],
    ['the wrong salt', signedForm(fields, 'wrong-salt')],
    ['a truncated hmac', { ...fields, hmac: LEGACY_HEX.slice(0, 63) }],
    ['a non-hex hmac of the right length', { ...fields, hmac: 'z'.repeat(64) }],
    ['the body signature instead of the field hmac', { ...fields, hmac: bodySignature(new URLSearchParams(fields).toString(), SALT) }],
  ])('refuses %s (401)', (_what, form) => {
    const v = verifyHitpayHook(formRequest(form as Record<string, string>), SALT);
    expect(v.verdict).toBe('unauthenticated');
  });

  it.each([
    // amount=10.00 → amount1=0.00: the same signed text, so the same hmac.
    [
      'a digit moved from a value into a key',
      (f: Record<string, string>) => {
        const { amount, ...rest } = f;
        return { ...rest, [`amount${amount!.slice(0, 1)}`]: amount!.slice(1) };
      },
      /"amount1", not a HitPay Webhook v1 field/,
    ],
    // The request id swallows the (empty) phone and the reference after it.
    [
      'a value that swallows the fields after it',
      (f: Record<string, string>) => {
        const { phone, reference_number, payment_request_id, ...rest } = f;
        return { ...rest, payment_request_id: `${payment_request_id}phone${phone}reference_number${reference_number}` };
      },
      /lacks phone, reference_number/,
    ],
    // amount=12.34 → amoun=t12.34.
    [
      'a key cut short, its end moved into the value',
      (f: Record<string, string>) => {
        const { amount, ...rest } = f;
        return { ...rest, amoun: `t${amount}` };
      },
      /"amoun", not a HitPay Webhook v1 field/,
    ],
  ])('refuses %s although the hmac matches (401)', (_what, shift, message) => {
    const shifted = shift(fields);
    // The attack works on the signature alone: the shifted form signs to the same hmac.
    expect(legacySignature(shifted, SALT)).toBe(LEGACY_HEX);
    const v = verifyHitpayHook(formRequest({ ...shifted, hmac: LEGACY_HEX }), SALT);
    expect(v).toMatchObject({ verdict: 'unauthenticated', message: expect.stringMatching(message) });
  });

  it('refuses a field sent twice (the hmac cannot say which one it covers)', () => {
    const raw = `${new URLSearchParams(signedForm()).toString()}&amount=1.00`;
    const req = { ...formRequest(signedForm()), rawBody: Buffer.from(raw) };
    expect(verifyHitpayHook(req, SALT).verdict).toBe('unauthenticated');
  });

  it('refuses a form that carries only a valid Hitpay-Signature header', () => {
    const raw = new URLSearchParams(fields).toString();
    const v = verifyHitpayHook(formRequest(fields, { 'hitpay-signature': bodySignature(raw, SALT) }), SALT);
    expect(v.verdict).toBe('unauthenticated');
  });

  it('reads the raw bytes, not a parsed body that says something else', () => {
    const req = { ...formRequest(signedForm()), body: { ...fields, amount: '999.00' } };
    expect(verified(verifyHitpayHook(req, SALT)).paymentUpdate?.amount).toEqual({ value: 1234, currency: 'SGD' });
  });

  it.each([
    ['failed', { status: 'failed', failureCode: 'payment_rejected' }],
    ['expired', { status: 'expired', failureCode: 'payment_expired' }],
    ['canceled', { status: 'canceled', failureCode: 'payment_canceled' }],
  ] as const)('maps %s', (status, expected) => {
    const f = { ...fields, status, payment_id: '' };
    const v = verified(verifyHitpayHook(formRequest(signedForm(f)), SALT));
    expect(v.paymentUpdate).toMatchObject({ pspReference: 'req-1', ...expected, amount: { value: 1234, currency: 'SGD' } });
    expect(v.paymentUpdate).not.toHaveProperty('pspPaymentId');
    expect(v.dedupeKey).toBe(`hitpay:req-1::${expected.status}`);
  });

  it('stores a pending hook without a payment update', () => {
    const v = verified(verifyHitpayHook(formRequest(signedForm({ ...fields, status: 'pending' })), SALT));
    expect(v.paymentUpdate).toBeUndefined();
    expect(v.event).toBeNull();
  });

  it.each([
    ['an amount with too many decimals', { amount: '12.345' }],
    ['a negative amount', { amount: '-12.34' }],
    ['an exponent', { amount: '1.234e1' }],
    ['an empty amount on a completed payment', { amount: '' }],
    ['an unknown status', { status: 'refunded-ish' }],
    ['a currency that is not a code', { currency: 'S$' }],
    ['no payment request id', { payment_request_id: '' }],
  ])('answers 400 for a verified hook with %s', (_what, change) => {
    const v = verifyHitpayHook(formRequest(signedForm({ ...fields, ...change })), SALT);
    expect(v.verdict).toBe('malformed');
  });
});

describe('HitPay JSON (Hitpay-Signature) hooks', () => {
  it('signs the raw body bytes; agrees with a hand computation and the sandbox signer', () => {
    expect(createHmac('sha256', SALT).update(Buffer.from(jsonBody)).digest('hex')).toBe(JSON_HEX);
    expect(bodySignature(Buffer.from(jsonBody), SALT)).toBe(JSON_HEX);
    expect(jsonHitpaySignature(jsonBody, SALT)).toBe(JSON_HEX);
  });

  it('maps a payment request object; legacy and JSON hooks of one payment share a dedupe key', () => {
    const v = verified(verifyHitpayHook(jsonRequest(jsonBody, { 'hitpay-signature': JSON_HEX, 'hitpay-event-object': 'payment_request' }), SALT));
    expect(v.route).toEqual({ by: 'payment', pspReference: 'req-1' });
    expect(v.paymentUpdate).toEqual({
      pspReference: 'req-1',
      status: 'completed',
      amount: { value: 1234, currency: 'SGD' },
      pspPaymentId: 'pay-1',
      reference: 'cab-1-ride-1-1',
    });
    const legacy = verified(verifyHitpayHook(formRequest(signedForm()), SALT));
    expect(v.dedupeKey).toBe(legacy.dedupeKey);
  });

  it('maps a charge object with a JSON number amount', () => {
    const raw = JSON.stringify({ id: 'pay-9', status: 'succeeded', amount: 1.11, currency: 'sgd', payment_request_id: 'req-9' });
    const v = verified(verifyHitpayHook(jsonRequest(raw, { 'hitpay-signature': bodySignature(raw, SALT), 'hitpay-event-object': 'charge' }), SALT));
    expect(v.paymentUpdate).toEqual({ pspReference: 'req-9', status: 'completed', amount: { value: 111, currency: 'SGD' }, pspPaymentId: 'pay-9' });
    expect(v.dedupeKey).toBe('hitpay:req-9:pay-9:completed');
  });

  it('reads a failed PayNow attempt on a still-pending request as failed', () => {
    const raw = JSON.stringify({
      id: 'req-3',
      status: 'pending',
      amount: '5.00',
      currency: 'sgd',
      reference_number: 'r',
      payments: [{ id: 'pay-3', status: 'failed' }],
    });
    const v = verified(verifyHitpayHook(jsonRequest(raw, { 'hitpay-signature': bodySignature(raw, SALT) }), SALT));
    expect(v.paymentUpdate).toMatchObject({ status: 'failed', failureCode: 'payment_rejected', pspPaymentId: 'pay-3' });
  });

  it.each([
    ['no header', undefined, jsonBody],
    ['an empty header', '', jsonBody],
    ['the wrong salt', bodySignature(jsonBody, 'wrong-salt'), jsonBody],
    ['a header from another body', JSON_HEX, jsonBody.replace('12.34', '1.00')],
    ['the same JSON re-serialised with spaces', JSON_HEX, JSON.stringify(JSON.parse(jsonBody), null, 1)],
    ['the legacy hmac of the same fields', LEGACY_HEX, jsonBody],
  ])('refuses %s (401)', (_what, header, raw) => {
    const v = verifyHitpayHook(jsonRequest(raw, header === undefined ? {} : { 'hitpay-signature': header }), SALT);
    expect(v.verdict).toBe('unauthenticated');
  });

  it('refuses a JSON body that carries a valid legacy hmac field but no header', () => {
    const raw = JSON.stringify(signedForm());
    expect(verifyHitpayHook(jsonRequest(raw, {}), SALT).verdict).toBe('unauthenticated');
  });

  it('answers 400 for a signed JSON hook that cannot be routed or read', () => {
    const charge = JSON.stringify({ id: 'pay-1', status: 'succeeded', amount: 1, currency: 'sgd' });
    expect(verifyHitpayHook(jsonRequest(charge, { 'hitpay-signature': bodySignature(charge, SALT), 'hitpay-event-object': 'charge' }), SALT).verdict).toBe(
      'malformed',
    );
    const payout = JSON.stringify({ id: 'po-1' });
    expect(verifyHitpayHook(jsonRequest(payout, { 'hitpay-signature': bodySignature(payout, SALT), 'hitpay-event-object': 'payout' }), SALT).verdict).toBe(
      'malformed',
    );
    const exponent = JSON.stringify({ id: 'req-1', status: 'completed', amount: 1e21, currency: 'sgd' });
    expect(verifyHitpayHook(jsonRequest(exponent, { 'hitpay-signature': bodySignature(exponent, SALT) }), SALT).verdict).toBe('malformed');
  });

  it('answers 400 for a content type that is neither form nor JSON', () => {
    const req: WebhookRequest = { ...formRequest(signedForm()), headers: { 'content-type': 'text/plain' } };
    expect(verifyHitpayHook(req, SALT).verdict).toBe('malformed');
  });
});
