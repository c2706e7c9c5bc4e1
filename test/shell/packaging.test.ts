import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const yaml = require('js-yaml') as { load(text: string): unknown };
const config = yaml.load(readFileSync(path.join(repoRoot, 'build/electron-builder.yml'), 'utf8')) as Record<string, any>;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('electron-builder config', () => {
  it("passes electron-builder's own schema validation", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, log: unknown): Promise<void>;
    };
    const debugLogger = { isEnabled: false, add() {} };
    await expect(validateConfiguration(config, debugLogger)).resolves.toBeUndefined();
    // The validator really runs: an unknown key is refused.
    await expect(validateConfiguration({ ...config, notAnOption: true }, debugLogger)).rejects.toThrow(/notAnOption/);
  });

  it('has the identity, targets, artifact names and update feed the fleet relies on', () => {
    expect(config.appId).toBe('com.cabpay.kiosk');
    expect(config.productName).toBe('cabpay');
    expect(config.artifactName).toBe('${productName}-${version}-${arch}.${ext}');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target[0].target).toBe('nsis');
    expect(config.publish).toMatchObject({ provider: 'generic', url: '${env.CABPAY_UPDATE_URL}' });
    expect(config.asarUnpack).toContain('**/node_modules/better-sqlite3/**/*.node');
    expect(config.npmRebuild).toBe(true);
    expect(config.afterPack).toBe('build/after-pack.cjs');
  });

  it('ships icons that are real square PNGs', () => {
    for (const size of [16, 32, 256, 512]) {
      const png = PNG.sync.read(readFileSync(path.join(repoRoot, `build/icons/${size}x${size}.png`)));
      expect([png.width, png.height]).toEqual([size, size]);
    }
  });
});

describe('afterPack fuses', () => {
  const hook = require(path.join(repoRoot, 'build/after-pack.cjs')) as {
    default(context: unknown): Promise<void>;
    executablePath(context: unknown): string;
  };
  const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

  /** A stand-in binary carrying Electron's fuse wire: sentinel, version 1, 8 fuses all enabled. */
  function fakeElectron(dir: string, name: string): string {
    const file = path.join(dir, name);
    const wire = Buffer.concat([
      Buffer.from('\x7fELF...padding...'),
      Buffer.from(SENTINEL),
      Buffer.from([1, 8]),
      Buffer.from('11111111'),
      Buffer.from('...tail'),
    ]);
    writeFileSync(file, wire);
    return file;
  }

  const context = (appOutDir: string, platform: string) => ({
    appOutDir,
    electronPlatformName: platform,
    arch: 1,
    packager: { appInfo: { productFilename: 'cabpay' }, executableName: 'cabpay' },
  });

  it('flips the fuses in the packed Linux binary', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-fuses-'));
    dirs.push(dir);
    const file = fakeElectron(dir, 'cabpay');
    await hook.default(context(dir, 'linux'));
    const bytes = readFileSync(file);
    const at = bytes.indexOf(SENTINEL) + SENTINEL.length + 2;
    const fuses = bytes.subarray(at, at + 8).toString('latin1');
    // RunAsNode, CookieEncryption, NODE_OPTIONS, --inspect, AsarIntegrity, OnlyAsar, V8Snapshot (untouched), FileProtocolPrivileges
    expect(fuses).toBe('01001110');
  });

  it('names the executable per platform and fails when there is nothing to fuse', async () => {
    expect(hook.executablePath(context('/o', 'win32'))).toBe(path.join('/o', 'cabpay.exe'));
    expect(hook.executablePath(context('/o', 'darwin'))).toBe(path.join('/o', 'cabpay.app'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-fuses-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'cabpay'), 'no sentinel here');
    await expect(hook.default(context(dir, 'linux'))).rejects.toThrow(/sentinel/);
  });
});
