import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configPathFor, readKioskConfig } from '../../electron/kiosk-config-source.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'cabpay-config-'));
  dirs.push(d);
  return d;
};
const valid = { relayUrl: 'http://127.0.0.1:8787', pspUrl: 'http://127.0.0.1:8788', cabId: 'cab-1', deviceToken: 't'.repeat(20) };

describe('kiosk config source', () => {
  it('prefers KIOSK_CONFIG and falls back to userData/kiosk-config.json', () => {
    expect(configPathFor({ KIOSK_CONFIG: '/etc/k.json' }, '/ud')).toBe('/etc/k.json');
    expect(configPathFor({}, '/ud')).toBe(path.join('/ud', 'kiosk-config.json'));
  });

  it('reads userData config and keeps the database in userData', () => {
    const userData = temp();
    writeFileSync(path.join(userData, 'kiosk-config.json'), JSON.stringify(valid));
    const config = readKioskConfig({}, userData);
    expect(config.cabId).toBe('cab-1');
    expect(config.dataDir).toBe(userData);
  });

  it('explains how to provision a cab when no config exists', () => {
    const userData = temp();
    expect(() => readKioskConfig({}, userData)).toThrow(/No kiosk config at .*kiosk-config\.json.*npm run fleet -- add/);
  });
});
