import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../lib/core/models/model-artifact';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../scripts/lathe.mjs', import.meta.url));
const IRIS = fileURLToPath(new URL('../../static/samples/iris.csv', import.meta.url));
const HOUSING = fileURLToPath(new URL('../../static/samples/housing.csv', import.meta.url));

function lathe(...args: string[]) {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('lathe train', () => {
  it('trains an MLP on Iris with the wasm backend, prints the evaluation as JSON and saves the model', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lathe-train-'));
    const modelFile = path.join(dir, 'iris.lathe');
    const run = lathe(
      'train',
      '--data',
      IRIS,
      '--target',
      'species',
      '--model',
      'mlp',
      '--epochs',
      '30',
      '--seed',
      '3',
      '--save-model',
      modelFile,
      '--json'
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as {
      backend: string;
      rows: { train: number; test: number };
      metrics: Record<string, number>;
      evaluation: { splits: Array<{ split: string; report: { labels: string[] } }> };
    };
    expect(out.backend).toBe('wasm');
    expect(out.rows).toMatchObject({ train: 120, test: 30 });
    expect(out.metrics.accuracy).toBeGreaterThan(0.8);
    expect(out.evaluation.splits[0]?.report.labels).toEqual(['setosa', 'versicolor', 'virginica']);
    const model = decodeModel(readFileSync(modelFile).buffer);
    expect(model.meta.classes).toEqual(['setosa', 'versicolor', 'virginica']);
  });

  it('infers regression for a float target and prints a readable report', () => {
    const run = lathe(
      'train',
      '--data',
      HOUSING,
      '--target',
      'price_k',
      '--epochs',
      '20',
      '--backend',
      'cpu'
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/linear → price_k \(regression\) on cpu/);
    expect(run.stdout).toMatch(/RMSE/);
  });

  it('says what is wrong with a missing column or bad options', () => {
    const missing = lathe('train', '--data', IRIS, '--target', 'colour');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no column "colour" \(columns: sepal_length/);
    const bad = lathe('train', '--data', IRIS);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--target COLUMN/);
  });
});
