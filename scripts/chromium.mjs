// Finds Debian's Chromium, installing it with apt-get when it is missing and we may (root with apt).
// Never downloads a browser build of its own.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * How the e2e tests and the benchmarks launch it: WebGPU on (a software adapter where there is no GPU),
 * and nothing that reaches out to the network on its own.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
];

export function ensureChromium() {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    console.error(
      `Chromium is needed for the browser tests and is not at ${CHROMIUM_PATH}.\n` +
        'Install it with:\n\n  sudo apt-get update && sudo apt-get install -y chromium\n\n' +
        '(or set CHROMIUM_PATH to an existing Chromium binary).'
    );
    process.exit(1);
  }
  console.log("Chromium is missing; installing Debian's chromium with apt-get…");
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  });
  if (!existsSync(CHROMIUM_PATH)) {
    console.error(`apt-get finished but ${CHROMIUM_PATH} does not exist.`);
    process.exit(1);
  }
  return CHROMIUM_PATH;
}
