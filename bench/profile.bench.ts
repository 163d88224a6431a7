/**
 * Profiling and validation of 1,000,000 rows × 20 columns with the same core code the data worker runs
 * (here in Node). Writes bench/results/<timestamp>-profile.json and latest-profile.json.
 * Run: node --import tsx bench/profile.bench.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wideTable } from '../src/lib/core/data/fixtures/profile/wide-table';
import { profileTable } from '../src/lib/core/data/profile';
import { validateTable } from '../src/lib/core/data/validate';

const ROWS = 1_000_000;
const results = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: Math.round(performance.now() - started) };
}

const table = timed(() => wideTable(ROWS));
const plain = timed(() => profileTable(table.value));
const targeted = timed(() => profileTable(table.value, { target: 'label' }));
const validated = timed(() => validateTable(table.value, { target: 'label', profile: plain.value }));

const record = {
  benchmark: 'profile',
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
  rows: ROWS,
  columns: table.value.numCols,
  buildTableMs: table.ms,
  profileMs: plain.ms,
  profileWithTargetMs: targeted.ms,
  validateMs: validated.ms
};
await mkdir(results, { recursive: true });
const body = `${JSON.stringify(record, null, 2)}\n`;
await writeFile(path.join(results, `${record.date.replace(/[:.]/g, '-')}-profile.json`), body);
await writeFile(path.join(results, 'latest-profile.json'), body);
console.log(
  `profile ${ROWS.toLocaleString()} × ${record.columns}: ${plain.ms} ms; with target plots ${targeted.ms} ms; validate ${validated.ms} ms`
);
