import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // A static SPA: every route is rendered in the browser from one prerendered shell.
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
    alias: { $workers: 'workers' },
    serviceWorker: { register: false },
    typescript: {
      // Workers, browser tests and their config are type-checked with the studio.
      config: (tsconfig) => {
        tsconfig.include.push(
          '../workers/**/*.ts',
          '../e2e/**/*.ts',
          '../bench/**/*.ts',
          '../scripts/**/*.ts',
          '../playwright.config.ts'
        );
        // AssemblyScript (its own types: f32, usize, v128), compiled by scripts/build-kernels.mjs.
        tsconfig.exclude.push('../src/lib/core/backend/assembly/**');
        return tsconfig;
      }
    }
  }
};

export default config;
