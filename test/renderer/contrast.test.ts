/**
 * The theme palettes in renderer/src/styles/themes.css: every text/background pair the UI
 * uses meets WCAG AA (4.5:1) in both themes, and the night theme has no red or orange hue.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('../../renderer/src/styles/themes.css', import.meta.url), 'utf8');

function palette(selector: string): Record<string, string> {
  const start = css.indexOf(selector);
  if (start < 0) throw new Error(`themes.css has no ${selector} block`);
  const block = css.slice(css.indexOf('{', start) + 1, css.indexOf('}', start));
  return Object.fromEntries([...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})\s*;/gi)].map((m) => [m[1], m[2]]));
}

const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255) as [number, number, number];

function luminance(hex: string): number {
  const [r, g, b] = rgb(hex).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

function hueAndSaturation(hex: string): { hue: number; saturation: number } {
  const [r, g, b] = rgb(hex);
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  const l = (max + min) / 2;
  const saturation = d === 0 ? 0 : d / (1 - Math.abs(2 * l - 1));
  let hue = 0;
  if (d !== 0) {
    if (max === r) hue = 60 * (((g - b) / d) % 6);
    else if (max === g) hue = 60 * ((b - r) / d + 2);
    else hue = 60 * ((r - g) / d + 4);
  }
  return { hue: (hue + 360) % 360, saturation };
}

/** [text, background] pairs as the stylesheets combine them. */
const pairs: Array<[string, string]> = [
  ['--text', '--bg'],
  ['--text', '--surface'],
  ['--muted', '--bg'],
  ['--muted', '--surface'],
  ['--primary-text', '--primary-bg'],
  ['--secondary-text', '--secondary-bg'],
  ['--muted', '--secondary-bg'],
  ['--danger-text', '--danger-bg'],
  ['--warn-text', '--warn-bg'],
  ['--info-text', '--info-bg'],
  ['--ok-text', '--surface'],
  ['--ready-text', '--ready-bg'],
  ['--toast-text', '--toast-bg'],
  ['--warn-text', '--surface'],
  ['--ok-text', '--bg'],
  ['--disabled-text', '--disabled-bg'],
  ['--text', '--secondary-bg'],
];

describe.each([
  ['day', ":root,\n[data-theme='day']"],
  ['night', "[data-theme='night']"],
])('the %s theme', (_name, selector) => {
  const colours = palette(selector);

  it.each([
    ['--control-border', '--bg'],
    ['--control-border', '--surface'],
  ])('control outlines (%s on %s) reach the 3:1 of non-text contrast', (fg, bg) => {
    expect(contrast(colours[fg]!, colours[bg]!)).toBeGreaterThanOrEqual(3);
  });

  it.each(pairs)('%s on %s meets WCAG AA', (fg, bg) => {
    const a = colours[fg];
    const b = colours[bg];
    expect(a, fg).toBeDefined();
    expect(b, bg).toBeDefined();
    expect(contrast(a!, b!)).toBeGreaterThanOrEqual(4.5);
  });
});

describe('the night theme', () => {
  it('has no red, orange or amber hues', () => {
    for (const [name, hex] of Object.entries(palette("[data-theme='night']"))) {
      const { hue, saturation } = hueAndSaturation(hex);
      const warm = hue < 60 || hue > 320;
      expect(warm && saturation > 0.12, `${name} ${hex} hue ${hue.toFixed(0)} saturation ${saturation.toFixed(2)}`).toBe(false);
    }
  });

  it('is dim: no background brighter than dark grey', () => {
    const night = palette("[data-theme='night']");
    for (const name of ['--bg', '--surface', '--secondary-bg', '--warn-bg', '--info-bg']) {
      expect(luminance(night[name]!), name).toBeLessThan(0.05);
    }
  });
});

describe('contrast()', () => {
  it('matches the WCAG reference values', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });
});
