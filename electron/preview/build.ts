/**
 * `npm run build:preview`: bundles the preview host (kiosk core + bridge) into one ES module,
 * `out/preview/main.mjs`, so a cold start runs plain JavaScript instead of tsx compiling
 * every TypeScript file at start (the target: the QR within 1 s of a cold start, docs/performance.md).
 */
import { NODE_BUNDLES, buildNodeBundle } from '../../build/node-bundle.js';

export const PREVIEW_BUNDLE = NODE_BUNDLES.preview.outfile;

export function buildPreview(): Promise<string> {
  return buildNodeBundle('preview');
}
