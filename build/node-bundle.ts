/**
 * Bundles one of cabpay's Node entry points into a single ES module under out/, so a start
 * runs plain JavaScript instead of tsx compiling every TypeScript file at each cold start.
 *
 * Native and optional modules stay external: better-sqlite3 loads its .node binding from
 * node_modules; ws' bufferutil/utf-8-validate are optional speed-ups it requires in a try.
 *
 * `tsx build/node-bundle.ts <preview|relay>` (npm run build:preview / build:relay).
 */
import { build } from 'esbuild';
import path from 'node:path';

export const NODE_BUNDLES = {
  preview: { entry: 'electron/preview/main.ts', outfile: 'out/preview/main.mjs', workers: {} },
  // The relay's store writer thread loads its own bundle beside main.mjs (store/writer-thread.ts).
  relay: { entry: 'backend-relay/main.ts', outfile: 'out/relay/main.mjs', workers: { 'store-writer': 'backend-relay/store/store-writer.ts' } },
} as const satisfies Record<string, { entry: string; outfile: string; workers: Record<string, string> }>;
export type NodeBundleName = keyof typeof NODE_BUNDLES;

const root = path.resolve(import.meta.dirname, '..');

/** Builds the bundle; resolves with its absolute path. */
export async function buildNodeBundle(name: NodeBundleName): Promise<string> {
  const { entry, outfile, workers } = NODE_BUNDLES[name];
  const out = path.join(root, outfile);
  const entryPoints: Record<string, string> = { [path.basename(outfile, '.mjs')]: path.join(root, entry) };
  for (const [worker, file] of Object.entries(workers)) entryPoints[worker] = path.join(root, file);
  await build({
    entryPoints,
    outdir: path.dirname(out),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['better-sqlite3', 'bufferutil', 'utf-8-validate'],
    // The bundled CommonJS packages (pino, ws, fastify…) call require(); ESM has none.
    banner: { js: "import { createRequire as __cabpayCreateRequire } from 'node:module'; const require = __cabpayCreateRequire(import.meta.url);" },
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const name = process.argv[2];
  if (name !== 'preview' && name !== 'relay') {
    process.stderr.write(`usage: tsx build/node-bundle.ts <${Object.keys(NODE_BUNDLES).join('|')}>\n`);
    process.exit(2);
  }
  buildNodeBundle(name).then(
    (file) => process.stdout.write(`${name} bundle: ${path.relative(process.cwd(), file)}\n`),
    (err: unknown) => {
      process.stderr.write(`${name} build failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
