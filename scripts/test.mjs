#!/usr/bin/env node
// `npm test`: every suite, in order, none skipped silently. Type checks and lint, unit and server
// tests (Vitest), the production build, then the browser end-to-end tests (Playwright + Chromium).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { ensureChromium } from './chromium.mjs';

const results = [];

function step(name, command, args, env = {}) {
  console.log(`\n━━ ${name}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const r = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  results.push({ name, ok, seconds: Math.round((Date.now() - started) / 1000) });
  if (!ok) finish(1);
}

function counts() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (existsSync('test-results/vitest.json')) {
    const v = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
    passed += v.numPassedTests ?? 0;
    failed += v.numFailedTests ?? 0;
    skipped += (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0);
  }
  if (existsSync('test-results/playwright.json')) {
    const p = JSON.parse(readFileSync('test-results/playwright.json', 'utf8'));
    passed += p.stats?.expected ?? 0;
    failed += (p.stats?.unexpected ?? 0) + (p.stats?.flaky ?? 0);
    skipped += p.stats?.skipped ?? 0;
  }
  return { passed, failed, skipped };
}

function finish(code) {
  console.log('\n━━ Summary');
  for (const r of results) console.log(`${r.ok ? '✔' : '✘'} ${r.name} (${r.seconds} s)`);
  const c = counts();
  if (c.skipped > 0) {
    console.log(`${c.skipped} tests were skipped; npm test does not allow skipped tests.`);
    code = code || 1;
  }
  console.log(`${c.passed} passed, ${c.failed} failed`);
  process.exit(code);
}

mkdirSync('test-results', { recursive: true });
for (const f of ['test-results/vitest.json', 'test-results/playwright.json']) {
  if (existsSync(f)) spawnSync('rm', ['-f', f]);
}

const chromium = ensureChromium();
step('Types, lint and format', 'npm', ['run', 'check']);
step('Unit and server tests', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  '--outputFile=test-results/vitest.json'
]);
step('Production build', 'npm', ['run', 'build']);
step('Browser end-to-end tests', 'npx', ['playwright', 'test'], { CHROMIUM_PATH: chromium });
finish(0);
