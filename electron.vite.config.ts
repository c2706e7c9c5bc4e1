/**
 * `electron-vite build` → out/main (ESM main process), out/preload (CJS, as a sandboxed preload
 * must be), out/renderer (the UI, from the UI owner's renderer/vite.config.ts).
 */
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import rendererConfig from './renderer/vite.config.js';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // Dependencies (better-sqlite3's native module above all) load from node_modules at runtime.
      externalizeDeps: true,
      rollupOptions: {
        input: { main: resolve('electron/main.ts') },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can require nothing but `electron`: bundle everything else.
      externalizeDeps: false,
      rollupOptions: {
        input: { preload: resolve('electron/preload.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    ...rendererConfig,
    root: resolve('renderer'),
    base: './',
    build: {
      ...rendererConfig.build,
      outDir: resolve('out/renderer'),
      emptyOutDir: true,
      rollupOptions: { input: resolve('renderer/index.html') },
    },
  },
});
