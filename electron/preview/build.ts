/**
 * `npm run build:preview`: bundles the preview host (kiosk core + bridge) into one ES module,
 * `out/preview/main.mjs`, so a cold start runs plain JavaScript instead of tsx compiling
 * every TypeScript file at start (issue 7: QR within 1 s of a cold start).
 *
 * Native and optional modules stay external: better-sqlite3 loads its .node binding from
 * node_modules; ws' bufferutil/utf-8-validate are optional speed-ups it requires in a try.
 */
import { build } from 'esbuild';
import path from 'node:path';

export const PREVIEW_BUNDLE = 'out/preview/main.mjs';

const root = path.resolve(import.meta.dirname, '../..');

export async function buildPreview(outfile = path.join(root, PREVIEW_BUNDLE)): Promise<string> {
  await build({
    entryPoints: [path.join(root, 'electron/preview/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['better-sqlite3', 'bufferutil', 'utf-8-validate'],
    // The bundled CommonJS packages (pino, ws, socket.io-client…) call require(); ESM has none.
    banner: { js: "import { createRequire as __cabpayCreateRequire } from 'node:module'; const require = __cabpayCreateRequire(import.meta.url);" },
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildPreview().then(
    (file) => process.stdout.write(`preview bundle: ${path.relative(process.cwd(), file)}\n`),
    (err: unknown) => {
      process.stderr.write(`preview build failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
