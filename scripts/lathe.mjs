#!/usr/bin/env node
/**
 * The `lathe` command (package.json "bin"): runs `src/cli/` so the CLI, the data worker and the train
 * worker share one core. See `src/cli/main.ts` for the commands.
 *
 * The sources are bundled with esbuild (tsx's) into one CommonJS file first, rather than run through a
 * loader: tfjs-core's ES modules use extensionless imports Node cannot resolve, and its CommonJS entry
 * lacks the gradients training needs, so Node would otherwise load two copies of tfjs that do not see
 * each other's backends. Bundling picks the ES modules (like the studio's Vite build) and resolves them.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A fingerprint of the sources and the lock file: the bundle is made again only when one changes. */
async function fingerprint() {
  const hash = createHash('sha256');
  const walk = async (dir) => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1
    )) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (/\.(ts|js|json)$/.test(entry.name)) {
        const info = await stat(full);
        hash.update(`${full}:${info.size}:${info.mtimeMs}\n`);
      }
    }
  };
  await walk(path.join(root, 'src/cli'));
  await walk(path.join(root, 'src/lib/core'));
  const lock = await stat(path.join(root, 'package-lock.json')).catch(() => null);
  hash.update(`lock:${lock?.mtimeMs ?? 0}`);
  return hash.digest('hex').slice(0, 16);
}

const cacheDir = path.join(root, 'node_modules', '.cache', 'lathe-cli');
const bundle = path.join(cacheDir, `main-${await fingerprint()}.cjs`);
if (!existsSync(bundle)) {
  await mkdir(cacheDir, { recursive: true });
  // Written under a temporary name and renamed, so a second `lathe` running at once never reads half a file.
  const partial = `${bundle}.${process.pid}.tmp`;
  await build({
    entryPoints: [path.join(root, 'src/cli/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    outfile: partial,
    logLevel: 'error',
    define: { 'process.env.LATHE_ROOT': JSON.stringify(root) }
  });
  await rename(partial, bundle);
  // Older bundles are of sources that no longer exist.
  for (const name of await readdir(cacheDir)) {
    if (name.startsWith('main-') && name.endsWith('.cjs') && path.join(cacheDir, name) !== bundle) {
      await rm(path.join(cacheDir, name), { force: true });
    }
  }
}
const { main } = createRequire(import.meta.url)(bundle);
process.exitCode = await main(process.argv.slice(2));
