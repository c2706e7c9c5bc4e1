/**
 * Draws the app icon (a taxi-yellow tile with a QR-style mark) at every size electron-builder
 * wants and writes build/icons/<n>x<n>.png. Run: `npx tsx build/make-icons.ts`. The PNGs are
 * committed; rerun only to change the design.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const sizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const yellow = [255, 196, 0, 255] as const;
const ink = [24, 24, 27, 255] as const;
const clear = [0, 0, 0, 0] as const;

/** A 7×7 QR finder pattern in the corners and a few data modules, on a 21-module grid. */
function isDarkModule(x: number, y: number): boolean {
  const finder = (fx: number, fy: number) => {
    const dx = x - fx;
    const dy = y - fy;
    if (dx < 0 || dy < 0 || dx > 6 || dy > 6) return null;
    const ring = Math.max(Math.abs(dx - 3), Math.abs(dy - 3));
    return ring === 3 || ring <= 1;
  };
  for (const [fx, fy] of [
    [0, 0],
    [14, 0],
    [0, 14],
  ] as const) {
    const hit = finder(fx, fy);
    if (hit !== null) return hit;
  }
  // Deterministic "data": a fixed hash pattern, so the icon is stable between runs.
  return (x * 7 + y * 13 + x * y) % 5 < 2 && !(x < 8 && y < 8);
}

function pixel(size: number, px: number, py: number): readonly number[] {
  const radius = size * 0.18;
  const cx = Math.min(Math.max(px + 0.5, radius), size - radius);
  const cy = Math.min(Math.max(py + 0.5, radius), size - radius);
  if (Math.hypot(px + 0.5 - cx, py + 0.5 - cy) > radius) return clear; // rounded corners
  const margin = size * 0.17;
  const grid = size - 2 * margin;
  const gx = Math.floor(((px + 0.5 - margin) / grid) * 21);
  const gy = Math.floor(((py + 0.5 - margin) / grid) * 21);
  if (gx < 0 || gy < 0 || gx > 20 || gy > 20) return yellow;
  return isDarkModule(gx, gy) ? ink : yellow;
}

export function drawIcon(size: number): Buffer {
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(size, x, y);
      const i = (y * size + x) * 4;
      png.data[i] = r!;
      png.data[i + 1] = g!;
      png.data[i + 2] = b!;
      png.data[i + 3] = a!;
    }
  }
  return PNG.sync.write(png);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'icons');
  mkdirSync(outDir, { recursive: true });
  for (const size of sizes) writeFileSync(path.join(outDir, `${size}x${size}.png`), drawIcon(size));
  writeFileSync(path.join(path.dirname(outDir), 'icon.png'), drawIcon(512));
  console.log(`wrote ${sizes.length} icons to ${outDir}`);
}
