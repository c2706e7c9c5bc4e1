// The store writer thread run from source (tsx, vitest): the bundled relay loads store-writer.mjs instead.
import { tsImport } from 'tsx/esm/api';

await tsImport('./store-writer.ts', import.meta.url);
