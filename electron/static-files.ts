/**
 * Maps a request path to a file under a root directory, so that nothing outside the root can
 * ever be served (no `..`, no encoded separators, no NUL, no symlink escapes). Shared by the
 * preview host and the Electron `app://` protocol handler.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(file: string): string {
  return contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Hashed build output (`/assets/index-3f2a9c.js`) can be cached forever; the rest must revalidate. */
export function cacheControlFor(urlPath: string): string {
  return urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

export type StaticLookup = { found: true; file: string; size: number } | { found: false; status: 400 | 404; reason: string };

/**
 * Resolves `urlPath` (the pathname of a request, still percent-encoded) under `root`.
 * `/` means `/index.html`. Returns 400 for malformed paths and 404 for anything not a regular
 * file inside the root.
 */
export function lookupStatic(root: string, urlPath: string): StaticLookup {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { found: false, status: 400, reason: 'malformed percent-encoding in the path' };
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) {
    return { found: false, status: 400, reason: 'the path must start with / and hold no NUL or backslash' };
  }
  if (decoded.split('/').some((segment) => segment === '..')) {
    return { found: false, status: 400, reason: 'the path must not contain ..' };
  }
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return { found: false, status: 404, reason: `the static directory ${root} does not exist` };
  }
  const candidate = path.resolve(realRoot, relative);
  if (!isInside(realRoot, candidate)) {
    return { found: false, status: 400, reason: 'the path leaves the static directory' };
  }
  try {
    // Resolve symlinks too: a link inside the root must not point outside it.
    const real = realpathSync(candidate);
    if (!isInside(realRoot, real)) return { found: false, status: 404, reason: 'not found' };
    const stats = statSync(real);
    if (!stats.isFile()) return { found: false, status: 404, reason: 'not found' };
    return { found: true, file: real, size: stats.size };
  } catch {
    return { found: false, status: 404, reason: 'not found' };
  }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
