/**
 * `lathe train --data FILE --target COL [--model logistic|linear|mlp|text_embedding] [--task …]
 *   [--features a,b] [--test-size 0.2] [--validation-size 0] [--epochs N] [--batch-size N]
 *   [--optimizer sgd|momentum|adam|adamw] [--learning-rate X] [--cv K] [--seed N]
 *   [--backend wasm|cpu] [--save-model FILE] [--json]`
 *
 * Imports the file as the studio does, trains with the same core code as the train worker (`trainRun`)
 * on tfjs's wasm backend (or cpu), and prints the evaluation. Exit codes: 0 trained, 1 the data or the
 * training failed, 2 bad usage.
 */
import { openAsBlob } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from '../lib/core/backend/wasm-training-kernels';
import { readChunks } from '../lib/core/data/arrow';
import { blobSource, ingestSource } from '../lib/core/data/ingest';
import { LatheError, errorMessage } from '../lib/core/errors';
import type { ClassificationReport, RegressionReport } from '../lib/core/metrics/evaluate';
import type { RunEvaluation } from '../lib/core/metrics/run-evaluation';
import { encodeModel } from '../lib/core/models/model-artifact';
import { DEFAULT_MLP_LAYERS } from '../lib/core/models/model-spec';
import { trainRun } from '../lib/core/models/run-training';
import { runSpec, type ColumnSchema, type RunSpec, type Task } from '../lib/core/records';
import type { CliIo } from './main';

export const TRAIN_USAGE = `Usage: lathe train --data FILE --target COLUMN [options]

Trains a model on FILE with the studio's code and prints its evaluation on the held-out rows.

  --model logistic|linear|mlp|text_embedding   (default: logistic or linear, by task)
  --task classification|regression             (default: from the target's type)
  --features a,b,c                             (default: every other column except identifiers)
  --test-size 0.2   --validation-size 0   --seed 42
  --epochs 30   --batch-size 32   --optimizer adam   --learning-rate 0.01
  --cv K                                       k-fold cross-validation on the training rows
  --backend wasm|cpu                           (default: wasm, falling back to cpu)
  --save-model FILE                            write the trained model (Lathe tensor bundle)
  --json                                       print the full evaluation as JSON`;

const NO_ID = '00000000-0000-7000-8000-000000000000';

// tfjs prints a banner about tfjs-node on the first tensor in Node; a CLI's output must stay clean.
tf.env().set('PROD', true);

function usage(io: CliIo, problem: string): number {
  io.err(`${problem}\n\n${TRAIN_USAGE}`);
  return 2;
}

/** Numbers with few distinct whole values (a 0/1 or 1–5 label) are classes; other numbers a quantity. */
function inferTask(column: ColumnSchema): Task {
  if (column.type === 'float' || column.type === 'date' || column.type === 'datetime') return 'regression';
  if (column.type === 'integer') return (column.distinct ?? Infinity) <= 20 ? 'classification' : 'regression';
  return 'classification';
}

async function useBackend(name: 'wasm' | 'cpu', io: CliIo): Promise<string> {
  if (name === 'wasm') {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // The .wasm binaries are read from the installed package (the bundled CLI runs from a temp file).
      const root = process.env.LATHE_ROOT ?? process.cwd();
      wasm.setWasmPaths(`${path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist')}/`);
      registerWasmTrainingKernels();
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return 'wasm';
      }
    } catch (err) {
      io.err(`The wasm backend could not start (${errorMessage(err)}); training on cpu.`);
    }
  }
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}

export async function trainCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        data: { type: 'string' },
        target: { type: 'string' },
        model: { type: 'string' },
        task: { type: 'string' },
        features: { type: 'string' },
        'test-size': { type: 'string', default: '0.2' },
        'validation-size': { type: 'string', default: '0' },
        epochs: { type: 'string', default: '30' },
        'batch-size': { type: 'string', default: '32' },
        optimizer: { type: 'string', default: 'adam' },
        'learning-rate': { type: 'string', default: '0.01' },
        cv: { type: 'string', default: '0' },
        seed: { type: 'string', default: '42' },
        backend: { type: 'string', default: 'wasm' },
        'save-model': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false }
      }
    }));
  } catch (err) {
    return usage(io, errorMessage(err));
  }
  if (values.help) {
    io.out(TRAIN_USAGE);
    return 0;
  }
  if (!values.data || !values.target) return usage(io, 'Give --data FILE and --target COLUMN.');
  if (values.backend !== 'wasm' && values.backend !== 'cpu') return usage(io, '--backend is wasm or cpu.');
  const info = await stat(values.data).catch(() => undefined);
  if (!info?.isFile()) {
    io.err(`error [file_missing]: ${values.data} is not a file.`);
    return 1;
  }

  try {
    const imported = await ingestSource(
      blobSource(await openAsBlob(values.data), path.basename(values.data))
    );
    const table = readChunks(imported.chunks.map((c) => c.data));
    const targetColumn = imported.columns.find((c) => c.name === values.target);
    if (!targetColumn) {
      throw new LatheError(
        'column_missing',
        `The file has no column "${values.target}" (columns: ${imported.columns.map((c) => c.name).join(', ')}).`
      );
    }
    const task = (values.task as Task | undefined) ?? inferTask(targetColumn);
    const features = values.features
      ? values.features.split(',').map((f) => f.trim())
      : imported.columns
          .filter((c) => c.name !== values.target && c.type !== 'identifier')
          .map((c) => c.name);
    const modelKind = values.model ?? (task === 'classification' ? 'logistic' : 'linear');
    const parsed = runSpec.safeParse({
      datasetId: NO_ID,
      datasetVersionId: NO_ID,
      target: values.target,
      features,
      task,
      model:
        modelKind === 'mlp' || modelKind === 'text_embedding'
          ? { kind: modelKind, layers: DEFAULT_MLP_LAYERS }
          : { kind: modelKind },
      split: {
        testFraction: Number(values['test-size']),
        validationFraction: Number(values['validation-size']),
        seed: Number(values.seed)
      },
      preprocessing: { pipeline: null },
      training: {
        epochs: Number(values.epochs),
        batchSize: Number(values['batch-size']),
        optimizer: { kind: values.optimizer, learningRate: Number(values['learning-rate']) }
      },
      evaluation: { crossValidationFolds: Number(values.cv) },
      seed: Number(values.seed)
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return usage(io, `Invalid settings (${issue?.path.join('.') ?? '?'}): ${issue?.message ?? 'unknown'}.`);
    }
    const spec = parsed.data;
    const backend = await useBackend(values.backend, io);
    const started = performance.now();
    const outcome = await trainRun(table, spec, {
      yieldToEventLoop: () => Promise.resolve(),
      onLog: (message) => io.err(message)
    });
    const seconds = (performance.now() - started) / 1000;
    if (values['save-model'] && outcome.model) {
      await writeFile(values['save-model'], new Uint8Array(encodeModel(outcome.model)));
    }
    if (values.json) {
      io.out(
        JSON.stringify(
          {
            file: path.resolve(values.data),
            backend,
            seconds,
            spec,
            rows: outcome.rows,
            droppedRows: outcome.droppedRows,
            epochs: outcome.epochsCompleted,
            metrics: outcome.metrics,
            warnings: outcome.warnings,
            evaluation: outcome.evaluation
          },
          null,
          2
        )
      );
      return 0;
    }
    io.out(formatTraining(spec, backend, seconds, outcome.rows, outcome.metrics, outcome.evaluation));
    return 0;
  } catch (err) {
    const code = err instanceof LatheError ? err.code : 'train_failed';
    io.err(`error [${code}]: ${errorMessage(err)}`);
    return 1;
  }
}

const fmt = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : Number(v.toPrecision(4)).toString();

function formatTraining(
  spec: RunSpec,
  backend: string,
  seconds: number,
  rows: { train: number; validation: number; test: number },
  metrics: Record<string, number>,
  evaluation: RunEvaluation | null
): string {
  const lines = [
    `${spec.model.kind} → ${spec.target} (${spec.task}) on ${backend}, ${spec.training.epochs} epochs in ${seconds.toFixed(1)} s`,
    `rows: ${rows.train} train, ${rows.validation} validation, ${rows.test} test`,
    '',
    'Metrics:',
    ...Object.entries(metrics).map(([name, value]) => `  ${name.padEnd(22)} ${fmt(value)}`)
  ];
  const test = evaluation?.splits.find((s) => s.split === 'test')?.report;
  if (test?.task === 'classification') lines.push('', ...formatClassification(test));
  if (test?.task === 'regression') lines.push('', ...formatRegression(test));
  if (evaluation?.importance) {
    lines.push('', `Permutation importance (drop in ${evaluation.importance.metric}):`);
    for (const f of evaluation.importance.features) {
      lines.push(`  ${f.feature.padEnd(22)} ${fmt(f.mean)} ± ${fmt(f.std)}`);
    }
  }
  if (evaluation?.learningCurve.overfitWarning)
    lines.push('', `Warning: ${evaluation.learningCurve.overfitWarning}`);
  if (evaluation?.crossValidation) {
    lines.push('', `Cross-validation (${evaluation.crossValidation.folds} folds):`);
    for (const m of evaluation.crossValidation.metrics) {
      lines.push(`  ${m.name.padEnd(22)} ${fmt(m.mean)} ± ${fmt(m.std)}`);
    }
  }
  return lines.join('\n');
}

function formatClassification(report: ClassificationReport): string[] {
  const width = Math.max(5, ...report.labels.map((l) => l.length));
  const lines = [`  ${'class'.padEnd(width)}  precision  recall     f1  support`];
  for (const c of report.perClass) {
    lines.push(
      `  ${c.label.padEnd(width)}  ${fmt(c.precision).padStart(9)}  ${fmt(c.recall).padStart(6)}  ${fmt(c.f1).padStart(5)}  ${String(c.support).padStart(7)}`
    );
  }
  lines.push('', 'Confusion matrix (rows: true, columns: predicted):');
  lines.push(`  ${''.padEnd(width)}  ${report.labels.map((l) => l.padStart(6)).join(' ')}`);
  report.confusionMatrix.forEach((row, r) => {
    lines.push(
      `  ${(report.labels[r] ?? '').padEnd(width)}  ${row.map((v) => String(v).padStart(6)).join(' ')}`
    );
  });
  return lines;
}

function formatRegression(report: RegressionReport): string[] {
  return [
    `  MAE ${fmt(report.mae)}  RMSE ${fmt(report.rmse)}  R² ${fmt(report.r2)}  MAPE ${fmt(report.mape)}`
  ];
}
