/**
 * Expectations a dataset keeps about its data, checked against every new version.
 *
 * Missing cells (null, or NaN in number columns) fail only `not_null`: the other column checks skip
 * them. `range` bounds are inclusive; dates and date-times compare as epoch milliseconds. `allowed_set`
 * compares values as text (numbers as written by JavaScript, booleans as true/false, dates as ISO).
 * `regex` matches anywhere in the value (anchor with ^…$ for the whole value). `unique` fails every
 * row whose value occurs more than once; strings are compared by a 53-bit hash (see column-stats).
 *
 * A regular expression runs on the data worker's thread and cannot be interrupted mid-match, so
 * patterns are capped in length, patterns with a quantified group whose every part is itself
 * repeatable or optional (the `(a+)+` shape that backtracks exponentially) are refused, and the
 * check stops when it exceeds its time budget. Compile errors and refusals are reported, not thrown.
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import {
  displayValue,
  formatNumber,
  hashString,
  isTemporalType,
  numberLabel,
  readColumn,
  rowKeys,
  type ColumnData,
  type DisplayValue
} from './column-stats';
import { parseIsoDateTime } from './infer';

export const MAX_PATTERN_LENGTH = 1000;
export const DEFAULT_REGEX_BUDGET_MS = 2000;
export const MAX_EXAMPLES = 5;

const column = z.string().min(1);
const bound = z.number().optional();

export const expectationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('not_null'), column }),
  z.object({ kind: z.literal('range'), column, min: bound, max: bound }),
  z.object({
    kind: z.literal('allowed_set'),
    column,
    values: z.array(z.union([z.string(), z.number(), z.boolean()]))
  }),
  z.object({ kind: z.literal('unique'), column }),
  z.object({
    kind: z.literal('regex'),
    column,
    pattern: z.string().max(MAX_PATTERN_LENGTH),
    /** Only i, m, s and u: g and y would make matching stateful. */
    flags: z
      .string()
      .regex(/^[imsu]*$/)
      .optional()
  }),
  z.object({ kind: z.literal('row_count'), min: bound, max: bound })
]);
export type Expectation = z.infer<typeof expectationSchema>;

export const exampleSchema = z.object({
  row: z.number().int().nonnegative(),
  value: z.union([z.string(), z.number(), z.boolean(), z.null()])
});

export const expectationResultSchema = z.object({
  expectation: expectationSchema,
  passed: z.boolean(),
  /** What was measured, e.g. `{ missing, share }`, `{ min, max }`, `{ rows }`. */
  observed: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
  failingRows: z.number().int().nonnegative(),
  /** The first few failing rows. */
  examples: z.array(exampleSchema),
  /** Why the check could not run (or did not finish); such a result never passes. */
  error: z.string().optional()
});
export type ExpectationResult = z.infer<typeof expectationResultSchema>;

export const expectationReportSchema = z.object({
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  results: z.array(expectationResultSchema)
});
export type ExpectationReport = z.infer<typeof expectationReportSchema>;

export interface CheckOptions {
  /** Milliseconds one regex check may run before it stops (default 2000). */
  regexBudgetMs?: number;
  /** A clock for the budget; tests pass a fake one. */
  now?: () => number;
}

/** Checks every expectation against `table`. */
export function checkExpectations(
  table: Table,
  expectations: readonly Expectation[],
  options: CheckOptions = {}
): ExpectationReport {
  const cache = new Map<string, ColumnData>();
  const results = expectations.map((expectation) => check(table, expectation, cache, options));
  const passed = results.filter((r) => r.passed).length;
  return { passed, failed: results.length - passed, results };
}

function failure(expectation: Expectation, error: string): ExpectationResult {
  return { expectation, passed: false, observed: {}, failingRows: 0, examples: [], error };
}

function check(
  table: Table,
  expectation: Expectation,
  cache: Map<string, ColumnData>,
  options: CheckOptions
): ExpectationResult {
  if (expectation.kind === 'row_count') {
    const rows = table.numRows;
    const { min, max } = expectation;
    if (min === undefined && max === undefined)
      return failure(expectation, 'A row count needs a minimum or a maximum.');
    const passed = (min === undefined || rows >= min) && (max === undefined || rows <= max);
    return { expectation, passed, observed: { rows }, failingRows: 0, examples: [] };
  }
  if (!table.schema.fields.some((f) => f.name === expectation.column)) {
    return failure(expectation, `The dataset has no column “${expectation.column}”.`);
  }
  let data = cache.get(expectation.column);
  if (!data) {
    data = readColumn(table, expectation.column);
    cache.set(expectation.column, data);
  }
  switch (expectation.kind) {
    case 'not_null':
      return checkRows(expectation, data, (row) => !isPresent(data, row), {
        missing: data.missing,
        share: data.length > 0 ? data.missing / data.length : 0
      });
    case 'range':
      return checkRange(expectation, data);
    case 'allowed_set':
      return checkAllowed(expectation, data);
    case 'unique':
      return checkUnique(expectation, data);
    case 'regex':
      return checkRegex(expectation, data, options);
  }
}

function isPresent(data: ColumnData, row: number): boolean {
  switch (data.storage) {
    case 'number':
      return !Number.isNaN(data.values[row]);
    case 'codes':
      return (data.codes[row] ?? -1) >= 0;
    case 'string':
      return !Number.isNaN(data.hashes[row]);
  }
}

/** Counts the rows where `fails` holds and keeps the first few as examples. */
function checkRows(
  expectation: Expectation,
  data: ColumnData,
  fails: (row: number) => boolean,
  observed: ExpectationResult['observed']
): ExpectationResult {
  let failingRows = 0;
  const examples: Array<{ row: number; value: DisplayValue }> = [];
  for (let row = 0; row < data.length; row++) {
    if (!fails(row)) continue;
    failingRows++;
    if (examples.length < MAX_EXAMPLES) examples.push({ row, value: displayValue(data, row) });
  }
  return { expectation, passed: failingRows === 0, observed, failingRows, examples };
}

function checkRange(
  expectation: Extract<Expectation, { kind: 'range' }>,
  data: ColumnData
): ExpectationResult {
  const { min, max } = expectation;
  if (data.storage !== 'number') {
    return failure(expectation, `“${data.name}” is not a number or date column, so it has no range.`);
  }
  if (min === undefined && max === undefined)
    return failure(expectation, 'A range needs a minimum or a maximum.');
  if (min !== undefined && max !== undefined && min > max) {
    return failure(expectation, `The range's minimum (${min}) is above its maximum (${max}).`);
  }
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const x of data.values) {
    if (Number.isNaN(x)) continue;
    if (x < low) low = x;
    if (x > high) high = x;
  }
  const values = data.values;
  return checkRows(
    expectation,
    data,
    (row) => {
      const x = values[row] ?? Number.NaN;
      return !Number.isNaN(x) && ((min !== undefined && x < min) || (max !== undefined && x > max));
    },
    {
      min: low <= high ? formatNumber(data.type, low) : null,
      max: low <= high ? formatNumber(data.type, high) : null
    }
  );
}

function checkAllowed(
  expectation: Extract<Expectation, { kind: 'allowed_set' }>,
  data: ColumnData
): ExpectationResult {
  const allowedText = new Set(expectation.values.map(String));
  let fails: (row: number) => boolean;
  if (data.storage === 'codes') {
    const ok = data.labels.map((label) => allowedText.has(label));
    fails = (row) => {
      const code = data.codes[row] ?? -1;
      return code >= 0 && !ok[code];
    };
  } else if (data.storage === 'number') {
    const allowed = new Set<number>();
    for (const v of expectation.values) {
      if (typeof v === 'number') allowed.add(v);
      else if (typeof v === 'string' && isTemporalType(data.type)) {
        const t = parseIsoDateTime(v.trim());
        if (t !== null) allowed.add(t);
      } else if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
        allowed.add(Number(v));
    }
    const values = data.values;
    fails = (row) => {
      const x = values[row] ?? Number.NaN;
      return !Number.isNaN(x) && !allowed.has(x) && !allowedText.has(numberLabel(data.type, x));
    };
  } else {
    const allowed = new Set([...allowedText].map(hashString));
    const hashes = data.hashes;
    fails = (row) => {
      const h = hashes[row] ?? Number.NaN;
      return !Number.isNaN(h) && !allowed.has(h);
    };
  }
  const result = checkRows(expectation, data, fails, {});
  const present = data.length - data.missing;
  return { ...result, observed: { unexpectedShare: present > 0 ? result.failingRows / present : 0 } };
}

function checkUnique(
  expectation: Extract<Expectation, { kind: 'unique' }>,
  data: ColumnData
): ExpectationResult {
  const keys = rowKeys(data);
  const counts = new Map<number, number>();
  for (const key of keys) if (!Number.isNaN(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
  let duplicated = 0;
  for (const n of counts.values()) if (n > 1) duplicated++;
  return checkRows(expectation, data, (row) => (counts.get(keys[row] ?? Number.NaN) ?? 0) > 1, {
    distinct: counts.size,
    duplicatedValues: duplicated
  });
}

interface PatternGroup {
  /** Some part repeats a variable number of times. */
  repeats: boolean;
  /** Some part must match exactly (a token or group that is not optional or variable). */
  mandatory: boolean;
}

type PatternItem = { kind: 'token' } | { kind: 'group'; group: PatternGroup };

const QUANTIFIER = /^(?:([*+?])|\{(\d+)(,?)(\d*)\})\??/;

/**
 * True for a pattern with a group that repeats a variable number of times and whose every part is
 * itself variable or optional, like `(a+)+` or `(\w+\s?)*`: such a group can split one input in
 * exponentially many ways. Groups with a part that must match exactly, like the `\.` in
 * `([\w-]+\.)+`, pass. A heuristic: it errs towards passing, and the time budget is the backstop.
 */
export function isRiskyPattern(pattern: string): boolean {
  const stack: PatternGroup[] = [{ repeats: false, mandatory: false }];
  let pending: PatternItem | null = null;
  let risky = false;
  const commit = (item: PatternItem, variable: boolean, exact: boolean): void => {
    const top = stack[stack.length - 1] as PatternGroup;
    if (item.kind === 'token') {
      top.repeats ||= variable;
      top.mandatory ||= exact;
      return;
    }
    if (variable && item.group.repeats && !item.group.mandatory) risky = true;
    top.repeats ||= variable || item.group.repeats;
    top.mandatory ||= exact && item.group.mandatory;
  };
  let i = 0;
  while (i < pattern.length && !risky) {
    const quantifier = pending ? QUANTIFIER.exec(pattern.slice(i)) : null;
    if (pending && quantifier) {
      const [text, symbol, min, comma, max] = quantifier;
      const variable =
        symbol === '*' || symbol === '+' || (comma === ',' && (max === '' || Number(max) > Number(min)));
      const exact = symbol === undefined && comma === '' && Number(min) > 0;
      commit(pending, variable, exact);
      pending = null;
      i += text.length;
      continue;
    }
    if (pending) commit(pending, false, true);
    pending = null;
    const ch = pattern[i];
    if (ch === '\\') {
      pending = { kind: 'token' };
      i += 2;
    } else if (ch === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      pending = { kind: 'token' };
      i = j + 1;
    } else if (ch === '(') {
      stack.push({ repeats: false, mandatory: false });
      i += /^\(\?(?:[:=!]|<[=!]|<[^>]*>)/.exec(pattern.slice(i))?.[0].length ?? 1;
    } else if (ch === ')') {
      const group = stack.length > 1 ? (stack.pop() as PatternGroup) : null;
      pending = group ? { kind: 'group', group } : null;
      i++;
    } else {
      // Anchors and alternation bars match no character; anything else is one token.
      pending = ch === '^' || ch === '$' || ch === '|' ? null : { kind: 'token' };
      i++;
    }
  }
  return risky;
}

function checkRegex(
  expectation: Extract<Expectation, { kind: 'regex' }>,
  data: ColumnData,
  options: CheckOptions
): ExpectationResult {
  const { pattern } = expectation;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return failure(expectation, `The pattern is longer than ${MAX_PATTERN_LENGTH} characters.`);
  }
  if (isRiskyPattern(pattern)) {
    return failure(
      expectation,
      'The pattern repeats a group whose parts can also repeat (like (a+)+); it could take hours on some values. Rewrite it so each repetition must consume a fixed character.'
    );
  }
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, (expectation.flags ?? '').replace(/[gy]/g, ''));
  } catch (err) {
    return failure(
      expectation,
      `The pattern does not compile: ${err instanceof Error ? err.message : String(err)}`
    );
  }
  const now = options.now ?? (() => performance.now());
  const budget = options.regexBudgetMs ?? DEFAULT_REGEX_BUDGET_MS;
  const started = now();
  // Categories are tested once each, not once per row.
  const labelOk = data.storage === 'codes' ? data.labels.map((label) => regex.test(label)) : null;
  let failingRows = 0;
  let checked = 0;
  const examples: Array<{ row: number; value: DisplayValue }> = [];
  let timedOut = false;
  for (let row = 0; row < data.length; row++) {
    if ((row & 255) === 0 && row > 0 && now() - started > budget) {
      timedOut = true;
      break;
    }
    checked++;
    let ok: boolean;
    if (labelOk && data.storage === 'codes') {
      const code = data.codes[row] ?? -1;
      if (code < 0) continue;
      ok = labelOk[code] ?? true;
    } else {
      const value = displayValue(data, row);
      if (value === null) continue;
      ok = regex.test(String(value));
    }
    if (ok) continue;
    failingRows++;
    if (examples.length < MAX_EXAMPLES) examples.push({ row, value: displayValue(data, row) });
  }
  const result: ExpectationResult = {
    expectation,
    passed: failingRows === 0 && !timedOut,
    observed: { checkedRows: checked },
    failingRows,
    examples
  };
  if (timedOut) {
    result.error = `The pattern took longer than ${budget} ms; ${checked.toLocaleString('en-US')} of ${data.length.toLocaleString('en-US')} rows were checked.`;
  }
  return result;
}
