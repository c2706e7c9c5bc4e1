/**
 * Console accounts against a real relay: one-time passwords that must be changed, scrypt hashes,
 * lockout after wrong passwords, session expiry (idle and maximum age), the cookie's flags, CSRF
 * token and Origin checks on every change, and the audit rows each of these leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayApp } from '../../backend-relay/app.js';
import { buildRelayApp } from '../../backend-relay/app.js';
import { createLogger } from '../../backend-relay/logger.js';
import { admin, makeSigner, relayConfig, tempDir } from '../relay/helpers.js';
import { addOperator, ConsoleClient } from './helpers.js';

const PASSWORD = 'correct horse battery staple';

describe('console accounts', () => {
  let app: RelayApp;
  let url: string;
  let clockMs = Date.parse('2026-03-01T08:00:00Z');

  beforeAll(async () => {
    const dir = tempDir('cabpay-console-');
    app = await buildRelayApp(
      relayConfig(dir, await makeSigner(dir), { console: { sessionIdleS: 600, sessionMaxS: 3600, loginFailures: { points: 3, durationS: 900 } } }),
      { logger: createLogger('silent'), consoleClock: () => clockMs },
    );
    url = await app.listen();
  });
  afterAll(() => app.close());

  const audit = (action: string, target?: string) =>
    app.console.operators.auditLog({ limit: 200 }).filter((e) => e.action === action && (target === undefined || e.target === target));

  it('gives a one-time password that must be changed before anything else, stores only a scrypt hash', async () => {
    const oneTime = await addOperator(url, 'alice', 'operator');
    expect(oneTime).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    expect(app.console.operators.passwordHash('alice')).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(app.console.operators.passwordHash('alice')).not.toContain(oneTime);

    const client = new ConsoleClient(url);
    const login = await client.login('alice', oneTime);
    expect(login.status).toBe(200);
    expect(login.body.operator).toMatchObject({ name: 'alice', role: 'operator', mustChangePassword: true });
    expect((await client.call('GET', '/console/api/cabs')).body.error.code).toBe('password_change_required');

    const weak = await client.call('POST', '/console/api/password', { current: oneTime, next: 'short' });
    expect(weak).toMatchObject({ status: 400, body: { error: { code: 'weak_password' } } });
    const wrong = await client.call('POST', '/console/api/password', { current: 'not it at all', next: PASSWORD });
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'wrong_password' } } });
    const changed = await client.call('POST', '/console/api/password', { current: oneTime, next: PASSWORD });
    expect(changed.status).toBe(200);
    expect(changed.body.operator.mustChangePassword).toBe(false);
    expect((await client.call('GET', '/console/api/cabs')).status).toBe(200);

    expect((await new ConsoleClient(url).login('alice', oneTime)).status).toBe(401);
    expect((await new ConsoleClient(url).login('alice', PASSWORD)).status).toBe(200);
    expect(audit('login', 'alice').map((e) => e.outcome)).toEqual(['ok', 'refused', 'ok']);
    expect(audit('password_change', 'alice').map((e) => e.outcome)).toEqual(['ok', 'refused']);
    expect(audit('operator.add', 'alice')[0]).toMatchObject({ actor: 'admin-token', detail: { role: 'operator' } });
  });

  it('sets the session cookie HttpOnly and SameSite=Strict', async () => {
    const oneTime = await addOperator(url, 'cookie-check', 'viewer');
    const res = await fetch(`${url}/console/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ name: 'cookie-check', password: oneTime }),
    });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('cabpay_console='));
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/); // plain HTTP here; behind TLS it is Secure (roles.test)
  });

  it('locks an operator out after repeated wrong passwords, even with the right one, and logs each attempt', async () => {
    const oneTime = await addOperator(url, 'bob', 'viewer');
    const client = new ConsoleClient(url);
    for (let i = 0; i < 3; i++) expect((await client.login('bob', `wrong-guess-${i}`)).status).toBe(401);
    const locked = await client.login('bob', oneTime);
    expect(locked.status).toBe(429);
    expect(locked.body.error.message).toMatch(/retry in \d+ s/);
    expect(audit('login', 'bob').map((e) => [e.outcome, (e.detail as { reason: string }).reason])).toEqual([
      ['refused', 'locked'],
      ['refused', 'wrong password'],
      ['refused', 'wrong password'],
      ['refused', 'wrong password'],
    ]);
    // Another operator from the same address is not locked by bob's guesses.
    const carolOneTime = await addOperator(url, 'carol', 'viewer');
    expect((await new ConsoleClient(url).login('carol', carolOneTime)).status).toBe(200);
  });

  it('ends a session after it is idle too long and after its maximum age however busy, and on logout', async () => {
    const oneTime = await addOperator(url, 'dave', 'viewer');
    const client = new ConsoleClient(url);
    await client.firstLogin('dave', oneTime, PASSWORD);
    clockMs += 599_000;
    expect((await client.call('GET', '/console/api/cabs')).status).toBe(200); // used: idle expiry moves on
    clockMs += 599_000;
    expect((await client.call('GET', '/console/api/cabs')).status).toBe(200);
    clockMs += 601_000;
    const idle = await client.call('GET', '/console/api/cabs');
    expect(idle).toMatchObject({ status: 401, body: { error: { code: 'not_logged_in' } } });

    await client.login('dave', PASSWORD);
    for (let i = 0; i < 6; i++) {
      clockMs += 590_000;
      expect((await client.call('GET', '/console/api/session')).status).toBe(200);
    }
    clockMs += 590_000; // past the hour since login
    expect((await client.call('GET', '/console/api/session')).status).toBe(401);

    await client.login('dave', PASSWORD);
    const copy = client.cookie;
    expect((await client.call('POST', '/console/api/logout')).status).toBe(200);
    client.cookie = copy; // a kept copy of the cookie is worth nothing after logout
    expect((await client.call('GET', '/console/api/session')).status).toBe(401);
    expect(audit('logout', 'dave')).toHaveLength(1);
  });

  it('refuses a change without the CSRF token or with a wrong one, and logs the attempt', async () => {
    const oneTime = await addOperator(url, 'erin', 'admin');
    const client = new ConsoleClient(url);
    await client.firstLogin('erin', oneTime, PASSWORD);
    const before = audit('csrf_refused').length;
    for (const csrf of [null, 'forged-token', client.csrfToken.slice(0, -1)]) {
      const res = await client.call('POST', '/console/api/logout', undefined, { csrf });
      expect(res).toMatchObject({ status: 403, body: { error: { code: 'bad_csrf_token' } } });
    }
    expect(audit('csrf_refused')).toHaveLength(before + 3);
    expect(audit('csrf_refused')[0]).toMatchObject({ actor: 'erin', outcome: 'refused' });
    expect((await client.call('GET', '/console/api/session')).status).toBe(200); // still logged in
  });

  it('refuses changes and logins from another origin or without an Origin header', async () => {
    const oneTime = await addOperator(url, 'frank', 'admin');
    const client = new ConsoleClient(url);
    await client.firstLogin('frank', oneTime, PASSWORD);
    for (const origin of ['https://evil.example', 'http://127.0.0.1:1', null]) {
      const res = await client.call('POST', '/console/api/logout', undefined, { origin });
      expect(res).toMatchObject({ status: 403, body: { error: { code: 'bad_origin' } } });
    }
    const foreignLogin = await new ConsoleClient(url, 'https://evil.example').login('frank', PASSWORD);
    expect(foreignLogin).toMatchObject({ status: 403, body: { error: { code: 'bad_origin' } } });
    expect(audit('origin_refused').length).toBeGreaterThanOrEqual(4);
    // Reading needs no Origin (a plain navigation sends none), only the session.
    expect((await client.call('GET', '/console/api/cabs', undefined, { origin: null })).status).toBe(200);
  });

  it('ends the sessions of an operator who is disabled, and of one whose password is reset', async () => {
    const oneTime = await addOperator(url, 'gina', 'operator');
    const client = new ConsoleClient(url);
    await client.firstLogin('gina', oneTime, PASSWORD);
    expect((await admin(url, 'POST', '/admin/operators/gina/disable')).status).toBe(200);
    expect((await client.call('GET', '/console/api/session')).status).toBe(401);
    expect((await client.login('gina', PASSWORD)).status).toBe(401);
    expect((await admin(url, 'POST', '/admin/operators/gina/enable')).status).toBe(200);
    expect((await client.login('gina', PASSWORD)).status).toBe(200);
    const reset = await admin(url, 'POST', '/admin/operators/gina/reset-password');
    expect(reset.status).toBe(200);
    expect((await client.call('GET', '/console/api/session')).status).toBe(401);
    const again = await client.login('gina', reset.body.oneTimePassword);
    expect(again.body.operator.mustChangePassword).toBe(true);
    expect(audit('operator.disable', 'gina')).toHaveLength(1);
    expect(audit('operator.reset_password', 'gina')).toHaveLength(1);
  });

  it('validates what the admin API is given for operators', async () => {
    expect((await admin(url, 'POST', '/admin/operators', { name: 'Bad Name', role: 'admin' })).body.error.code).toBe('invalid_operator');
    expect((await admin(url, 'POST', '/admin/operators', { name: 'henry', role: 'root' })).body.error.message).toMatch(/admin, operator or viewer/);
    await addOperator(url, 'henry', 'viewer');
    expect((await admin(url, 'POST', '/admin/operators', { name: 'henry', role: 'viewer' })).status).toBe(409);
    expect((await admin(url, 'POST', '/admin/operators/nobody/reset-password')).status).toBe(404);
    expect((await admin(url, 'POST', '/admin/operators', { name: 'ivan', role: 'viewer' }, 'wrong-token-wrong-token')).status).toBe(401);
  });
});
