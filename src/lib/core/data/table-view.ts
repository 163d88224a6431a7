/**
 * Sorted and filtered views of an Arrow table, read a page at a time: what the virtualized data grid
 * asks the data worker for. A view is an index permutation, so a million-row table is never copied.
 */
import { DataType, type Table, type Vector } from 'apache-arrow';

export type Cell = string | number | boolean | null;

export interface ViewSpec {
  sort?: { column: string; descending: boolean } | null;
  /** Row indices to keep (e.g. from a filter expression), in table order; absent: all rows. */
  keep?: Uint32Array | null;
}

export interface TableView {
  /** Table rows in view order; null means all rows in table order. */
  order: Uint32Array | null;
  rowCount: number;
}

/** A cell as the page shows it: dictionary codes as their labels, dates as ISO strings, bigints as numbers. */
export function cellOf(vector: Vector, row: number): Cell {
  const value: unknown = vector.get(row);
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') {
    if (DataType.isTimestamp(vector.type) || DataType.isDate(vector.type))
      return new Date(value).toISOString();
    return Number.isNaN(value) ? null : value;
  }
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}

/** Values of one column as sortable keys: numbers (NaN for missing) or strings (null for missing). */
function sortKeys(vector: Vector, rows: number): Float64Array | Array<string | null> {
  const type = vector.type;
  if (
    DataType.isInt(type) ||
    DataType.isFloat(type) ||
    DataType.isTimestamp(type) ||
    DataType.isDate(type) ||
    DataType.isBool(type)
  ) {
    const keys = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const v: unknown = vector.get(i);
      keys[i] =
        v === null || v === undefined
          ? Number.NaN
          : typeof v === 'bigint'
            ? Number(v)
            : v instanceof Date
              ? v.getTime()
              : typeof v === 'boolean'
                ? Number(v)
                : Number(v);
    }
    return keys;
  }
  const keys = new Array<string | null>(rows);
  for (let i = 0; i < rows; i++) {
    const v: unknown = vector.get(i);
    keys[i] = v === null || v === undefined ? null : String(v);
  }
  return keys;
}

export function createView(table: Table, spec: ViewSpec): TableView {
  const keep = spec.keep ?? null;
  const sort = spec.sort ?? null;
  if (!sort) return { order: keep, rowCount: keep ? keep.length : table.numRows };
  const vector = table.getChild(sort.column);
  if (!vector) throw new Error(`There is no column named ${sort.column}.`);
  const keys = sortKeys(vector, table.numRows);
  const order = keep ? Uint32Array.from(keep) : Uint32Array.from({ length: table.numRows }, (_, i) => i);
  const sign = sort.descending ? -1 : 1;
  const collator = new Intl.Collator(undefined, { numeric: true });
  // Missing values go last in either direction; ties keep table order (a stable sort), so views are deterministic.
  if (keys instanceof Float64Array) {
    order.sort((a, b) => {
      const x = keys[a]!;
      const y = keys[b]!;
      const xn = Number.isNaN(x);
      const yn = Number.isNaN(y);
      if (xn || yn) return xn === yn ? a - b : xn ? 1 : -1;
      return x === y ? a - b : x < y ? -sign : sign;
    });
  } else {
    order.sort((a, b) => {
      const x = keys[a] ?? null;
      const y = keys[b] ?? null;
      if (x === null || y === null) return x === y ? a - b : x === null ? 1 : -1;
      const c = collator.compare(x, y);
      return c === 0 ? a - b : sign * c;
    });
  }
  return { order, rowCount: order.length };
}

/** Rows [offset, offset + limit) of a view, as arrays in the table's column order. */
export function readViewRows(table: Table, view: TableView, offset: number, limit: number): Cell[][] {
  const end = Math.min(view.rowCount, Math.max(0, offset) + Math.max(0, limit));
  const vectors = table.schema.fields.map((f) => table.getChild(f.name)!);
  const rows: Cell[][] = [];
  for (let i = Math.max(0, offset); i < end; i++) {
    const row = view.order ? view.order[i]! : i;
    rows.push(vectors.map((v) => cellOf(v, row)));
  }
  return rows;
}

/** Rows where a boolean expression is true (false and missing rows are left out), in table order. */
export function rowsMatching(table: Table, data: { kind: string; values: ArrayLike<unknown> }): Uint32Array {
  if (data.kind !== 'boolean')
    throw new Error('A filter must be a condition that is true or false, e.g. price > 10.');
  const values = data.values as Uint8Array;
  let count = 0;
  for (let i = 0; i < table.numRows; i++) if (values[i] === 1) count++;
  const keep = new Uint32Array(count);
  let j = 0;
  for (let i = 0; i < table.numRows; i++) if (values[i] === 1) keep[j++] = i;
  return keep;
}
