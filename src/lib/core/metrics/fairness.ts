/**
 * Metrics per slice of the data (a sensitive attribute or any grouping) and fairlearn's disparity
 * summaries, so a model that works on average but fails one group is visible.
 */

export interface SliceMetrics {
  group: string;
  count: number;
  /** Share of the group predicted as the positive class (fairlearn's `selection_rate`). */
  selectionRate: number;
  /** Recall of the positive class in the group; 0 when it has no positives (fairlearn, see below). */
  truePositiveRate: number;
  /** Share of the group's negatives predicted positive; 0 when it has no negatives. */
  falsePositiveRate: number;
  accuracy: number;
}

export interface SliceReport {
  positiveClass: number;
  groups: SliceMetrics[];
  /** max − min selection rate over groups (fairlearn's `demographic_parity_difference`). */
  demographicParityDifference: number;
  /** The larger of the TPR range and the FPR range (fairlearn's `equalized_odds_difference`, `agg='worst_case'`). */
  equalizedOddsDifference: number;
}

export interface SliceOptions {
  /** Class index counted as positive (default 1); other classes are negative. */
  positiveClass?: number;
}

/**
 * fairlearn computes TPR and FPR from `confusion_matrix(normalize='true')`, where scikit-learn turns a
 * 0/0 row into 0: a group without positives has TPR 0 and one without negatives FPR 0 (not NaN), and
 * those zeros take part in the differences — the same here. Groups keep their first-seen order.
 */
export function metricsBySlice(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  groups: readonly string[],
  options: SliceOptions = {}
): SliceReport {
  const n = yTrue.length;
  if (yPred.length !== n || groups.length !== n)
    throw new RangeError(
      `length mismatch: ${n} labels, ${yPred.length} predictions, ${groups.length} groups`
    );
  if (n === 0) throw new RangeError('no samples');
  const positive = options.positiveClass ?? 1;
  const tallies = new Map<
    string,
    { count: number; selected: number; tp: number; pos: number; fp: number; hits: number }
  >();
  for (let i = 0; i < n; i++) {
    const key = groups[i] ?? '';
    let t = tallies.get(key);
    if (!t) {
      t = { count: 0, selected: 0, tp: 0, pos: 0, fp: 0, hits: 0 };
      tallies.set(key, t);
    }
    const truth = yTrue[i] === positive;
    const predicted = yPred[i] === positive;
    t.count++;
    if (predicted) t.selected++;
    if (truth) t.pos++;
    if (truth && predicted) t.tp++;
    if (!truth && predicted) t.fp++;
    if (yTrue[i] === yPred[i]) t.hits++;
  }
  const slices: SliceMetrics[] = [...tallies].map(([group, t]) => ({
    group,
    count: t.count,
    selectionRate: t.selected / t.count,
    truePositiveRate: t.pos === 0 ? 0 : t.tp / t.pos,
    falsePositiveRate: t.count - t.pos === 0 ? 0 : t.fp / (t.count - t.pos),
    accuracy: t.hits / t.count
  }));
  const range = (pick: (s: SliceMetrics) => number): number => {
    const values = slices.map(pick);
    return Math.max(...values) - Math.min(...values);
  };
  return {
    positiveClass: positive,
    groups: slices,
    demographicParityDifference: range((s) => s.selectionRate),
    equalizedOddsDifference: Math.max(
      range((s) => s.truePositiveRate),
      range((s) => s.falsePositiveRate)
    )
  };
}
