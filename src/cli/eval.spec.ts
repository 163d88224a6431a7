import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ClassificationReport, RegressionReport } from '../lib/core/metrics/evaluate';
import { main } from './main';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../scripts/lathe.mjs', import.meta.url));
const FIXTURES = new URL('../lib/core/metrics/fixtures/', import.meta.url);
const BINARY = fileURLToPath(new URL('binary-predictions.csv', FIXTURES));
const MULTICLASS = fileURLToPath(new URL('multiclass-predictions.csv', FIXTURES));
const REGRESSION = fileURLToPath(new URL('regression-predictions.csv', FIXTURES));

function lathe(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function capture(): {
  io: { out: (t: string) => void; err: (t: string) => void };
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

describe('lathe eval', () => {
  it('scores a binary predictions file as JSON through the bin, with slices', () => {
    const run = lathe('eval', BINARY, '--task', 'classification', '--json', '--group', 'segment');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as ClassificationReport;
    // classes sorted like scikit-learn: no = 0, yes = 1 (the positive class)
    expect(report.labels).toEqual(['no', 'yes']);
    expect(report.accuracy).toBe(0.75);
    expect(report.rocAuc.binary).toBe(0.75);
    // AP: precision 2/3 at recall .5 plus precision 1 at recall .5 → 5/6
    expect(report.averagePrecision.binary).toBeCloseTo(5 / 6, 12);
    // −(ln .9 + ln .6 + ln .35 + ln .8) / 4
    expect(report.logLoss).toBeCloseTo(0.47228795380917615, 12);
    // segment a: two true "no", both predicted "no" → selection 0; b: two true "yes", one predicted → .5
    expect(report.slices?.groups.map((g) => [g.group, g.selectionRate, g.truePositiveRate])).toEqual([
      ['a', 0, 0],
      ['b', 0.5, 0.5]
    ]);
    expect(report.slices?.demographicParityDifference).toBe(0.5);
  }, 60_000);

  it('prints a readable multiclass table from p_<class> columns', async () => {
    const { io, out } = capture();
    expect(await main(['eval', MULTICLASS, '--task', 'classification'], io)).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('classification, 4 samples, 3 classes');
    // recalls 1, 1, 1/2 → balanced accuracy 5/6
    expect(text).toContain('balanced accuracy  0.8333');
    // −(ln .6 + ln .5 + ln .6 + ln .3) / 4
    expect(text).toContain('log loss           0.7297');
    // one-vs-rest AUCs 1, 1, .875: macro .9583, weighted (1 + 1 + 2·.875) / 4 = .9375
    expect(text).toContain('ROC AUC (ovr)      macro 0.9583  weighted 0.9375');
    expect(text).toMatch(/2\s+0\s+1\s+1/);
  });

  it('scores regression predictions', async () => {
    const { io, out } = capture();
    expect(await main(['eval', REGRESSION, '--task', 'regression', '--json'], io)).toBe(0);
    const report = JSON.parse(out.join('\n')) as RegressionReport;
    expect(report).toMatchObject({ mae: 0.5, mse: 0.375 });
    expect(report.mape).toBeCloseTo(0.3273809523809524, 12);
  });

  it('explains bad usage and unusable files', async () => {
    const { io, err } = capture();
    expect(await main(['eval', REGRESSION], io)).toBe(2);
    expect(err.at(-1)).toContain('Usage: lathe eval');
    expect(await main(['eval', BINARY, '--task', 'regression'], io)).toBe(1);
    expect(err.at(-1)).toBe('error [eval_input]: y_true on data row 1 is not a number: “no”');
    expect(await main(['eval', REGRESSION, '--task', 'classification', '--positive', '9'], io)).toBe(1);
    expect(err.at(-1)).toMatch(/--positive 9 is not one of the classes/);
    expect(await main(['eval', 'missing.csv', '--task', 'regression'], io)).toBe(1);
    expect(err.at(-1)).toBe('error [eval_input]: missing.csv cannot be read');
  });
});
