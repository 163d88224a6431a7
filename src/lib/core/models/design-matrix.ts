/**
 * From an Arrow table to the numbers a linear model trains on: a row-major Float32 feature matrix
 * (missing cells as NaN, imputed later from the training split only) and a target vector (class
 * indices or values). Rows whose target is missing are dropped: there is nothing to learn from them.
 */
import type { Table, Vector } from 'apache-arrow';
import { tableToColumns } from '../data/arrow';
import { LatheError } from '../errors';
import type { Task } from '../records';

export interface DesignMatrix {
  /** rows × features, row-major; NaN where the cell was empty or not a number. */
  x: Float32Array;
  /** Class index (classification) or target value (regression), one per row. */
  y: Float32Array;
  rows: number;
  features: string[];
  /** Class labels in index order (classification), sorted; null for regression. */
  classes: string[] | null;
  /** Rows dropped because their target was missing. */
  droppedRows: number;
  /** The table row each matrix row came from, so a stored split (per table row) can be applied. */
  sourceRows: Uint32Array;
}

export interface DesignSpec {
  target: string;
  features: ReadonlyArray<string>;
  task: Task;
}

function column(table: Table, name: string): Vector {
  const vector = table.getChild(name);
  if (!vector) throw new LatheError('column_missing', `The column "${name}" is not in this dataset version.`);
  return vector;
}

/** A cell as a number: NaN for empty; null when it holds text (the caller decides what that means). */
function cellToNumber(value: unknown): number | null {
  if (value === null || value === undefined) return NaN;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.getTime();
  return null;
}

function isMissing(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

/** Class labels sorted numerically when every label is a number, otherwise by code unit (locale-free, so stable). */
function sortLabels(values: ReadonlyArray<unknown>): string[] {
  const numeric = values.every(
    (v) => typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean'
  );
  const unique = [...new Map(values.map((v) => [String(v), v])).entries()];
  if (numeric) {
    unique.sort((a, b) => (cellToNumber(a[1]) ?? 0) - (cellToNumber(b[1]) ?? 0));
  } else {
    unique.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  return unique.map(([label]) => label);
}

export function buildDesignMatrix(table: Table, spec: DesignSpec): DesignMatrix {
  const features = [...spec.features];
  if (features.includes(spec.target)) {
    throw new LatheError(
      'target_is_feature',
      `"${spec.target}" is the target, so it cannot also be a feature.`
    );
  }
  const targetValues = [...column(table, spec.target)];
  const keep: number[] = [];
  targetValues.forEach((v, i) => {
    if (!isMissing(v)) keep.push(i);
  });
  const rows = keep.length;
  if (rows === 0) throw new LatheError('no_rows', `Every row is missing the target "${spec.target}".`);

  const y = new Float32Array(rows);
  let classes: string[] | null = null;
  if (spec.task === 'classification') {
    classes = sortLabels(keep.map((i) => targetValues[i]));
    const index = new Map(classes.map((label, k) => [label, k]));
    keep.forEach((row, r) => {
      y[r] = index.get(String(targetValues[row])) ?? 0;
    });
  } else {
    keep.forEach((row, r) => {
      const value = cellToNumber(targetValues[row]);
      if (value === null) {
        throw new LatheError(
          'target_not_numeric',
          `The target "${spec.target}" holds text (e.g. "${String(targetValues[row])}"); regression needs numbers.`
        );
      }
      y[r] = value;
    });
  }

  // Features share the data module's conversion (nulls as NaN, categories as codes, text refused).
  const x = new Float32Array(rows * features.length);
  tableToColumns(table, features).forEach((values, f) => {
    keep.forEach((row, r) => {
      x[r * features.length + f] = values[row] ?? NaN;
    });
  });

  return {
    x,
    y,
    rows,
    features,
    classes,
    droppedRows: targetValues.length - rows,
    sourceRows: Uint32Array.from(keep)
  };
}
