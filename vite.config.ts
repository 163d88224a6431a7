import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { defineConfig } from 'vitest/config';

// Cross-origin isolation lets the wasm backend use SharedArrayBuffer threads on every core.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp'
};

export default defineConfig({
  plugins: [
    sveltekit(),
    SvelteKitPWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      // The static adapter's fallback page is the SPA shell; precache it and answer navigations with it.
      kit: { adapterFallback: 'index.html', spa: true },
      manifest: {
        name: 'Lathe — ML studio',
        short_name: 'Lathe',
        description: 'Load data, train on your own GPU, track, register and deploy models — in the browser.',
        theme_color: '#1d4ed8',
        background_color: '#0f172a',
        display: 'standalone',
        start_url: '/',
        scope: '/',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' }
        ]
      },
      workbox: {
        // The app shell and every worker bundle are precached; the large wasm binaries are
        // cached the first time a worker asks for them so they never delay the first visit.
        globPatterns: ['client/**/*.{js,css,svg,png,ico,webmanifest,json,csv}'],
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/healthz/, /^\/metrics/],
        runtimeCaching: [
          {
            urlPattern: ({ url }) => url.pathname.endsWith('.wasm'),
            handler: 'CacheFirst',
            options: { cacheName: 'lathe-wasm', expiration: { maxEntries: 16 } }
          }
        ]
      }
    })
  ],
  worker: {
    format: 'es',
    // tfjs starts wasm threads from its Emscripten factory's source text (`toString()`), which must
    // survive bundling as written: a minifier renames `_scriptDir` or folds its `typeof` guard and every
    // thread dies. So worker bundles only drop dead code.
    rolldownOptions: { output: { minify: 'dce-only' } }
  },
  server: {
    headers: isolationHeaders,
    fs: { allow: ['workers'] },
    proxy: Object.fromEntries(
      ['/api', '/healthz'].map((path) => [path, `http://localhost:${process.env.LATHE_API_PORT ?? 8787}`])
    )
  },
  preview: { headers: isolationHeaders },
  test: {
    include: ['src/**/*.spec.ts', 'workers/**/*.spec.ts', 'sync-server/**/*.spec.ts', 'scripts/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 30_000
  }
});
