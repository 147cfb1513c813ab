import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The informaticist console, built into dist/console and served by the service at /console/.
 * File names carry a content hash (served with a one-year immutable cache); no inline script or
 * style is emitted, so the page runs under a strict Content-Security-Policy.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  // Preact's automatic JSX runtime, without a Babel-based preset.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The polyfill is an inline-able helper; every browser the console supports has modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  logLevel: 'warn',
});
