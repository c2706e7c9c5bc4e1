/**
 * Where `require('electron')` would point, found without requiring it: the package's index.js
 * tries to download a missing binary, which cannot work on machines without internet.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './service.js';

export function findElectronBinary(): { path: string | null; reason: string } {
  const pkgDir = path.join(repoRoot, 'node_modules', 'electron');
  const pathFile = path.join(pkgDir, 'path.txt');
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
    const file = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, name);
    return existsSync(file) ? { path: file, reason: '' } : { path: null, reason: `ELECTRON_OVERRIDE_DIST_PATH has no ${name}` };
  }
  if (!existsSync(pathFile)) return { path: null, reason: `${pathFile} is missing: electron was installed without its binary (ELECTRON_SKIP_BINARY_DOWNLOAD)` };
  const file = path.join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(file) ? { path: file, reason: '' } : { path: null, reason: `the Electron binary ${file} does not exist` };
}
