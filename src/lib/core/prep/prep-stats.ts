/**
 * Per-column statistics for fitting, in float64 on the CPU: a column is read once from its tensor, and
 * float64 keeps means, quantiles and the power-transform likelihood as exact as sklearn's. Missing
 * cells (NaN) are ignored, as sklearn's scalers do.
 */

/** The non-NaN values of `values`, sorted ascending. */
export function sortedPresent(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) out.push(v);
  }
  return Float64Array.from(out).sort();
}

/** Quantile `q` in [0, 1] of sorted values with linear interpolation (numpy's default); NaN when empty. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = q * (n - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (position - lo);
}

export function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

/** Population variance (ddof 0), as sklearn's StandardScaler uses. */
export function variance(values: Float64Array): number {
  const m = mean(values);
  let sum = 0;
  for (const v of values) sum += (v - m) * (v - m);
  return values.length === 0 ? Number.NaN : sum / values.length;
}

/** The most frequent value; ties go to the smallest, as sklearn's SimpleImputer does. */
export function mostFrequent<T extends number | string>(values: Iterable<T>): T | undefined {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | undefined;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== undefined && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

const LAMBDA_EPS = 2.220446049250313e-16;

export function yeoJohnson(x: number, lambda: number): number {
  if (x >= 0) {
    return Math.abs(lambda) < LAMBDA_EPS ? Math.log1p(x) : Math.expm1(lambda * Math.log1p(x)) / lambda;
  }
  return Math.abs(lambda - 2) < LAMBDA_EPS
    ? -Math.log1p(-x)
    : -Math.expm1((2 - lambda) * Math.log1p(-x)) / (2 - lambda);
}

export function boxCox(x: number, lambda: number): number {
  return Math.abs(lambda) < LAMBDA_EPS ? Math.log(x) : Math.expm1(lambda * Math.log(x)) / lambda;
}

/** Yeo-Johnson log-likelihood of `lambda` (sklearn's `_yeo_johnson_optimize` objective, negated). */
export function yeoJohnsonLogLikelihood(values: Float64Array, lambda: number): number {
  const n = values.length;
  const transformed = values.map((v) => yeoJohnson(v, lambda));
  let jacobian = 0;
  for (const v of values) jacobian += Math.sign(v) * Math.log1p(Math.abs(v));
  return (-n / 2) * Math.log(variance(transformed)) + (lambda - 1) * jacobian;
}

/** Box-Cox log-likelihood of `lambda` (scipy's `boxcox_llf`); values must be positive. */
export function boxCoxLogLikelihood(values: Float64Array, lambda: number): number {
  const n = values.length;
  const transformed = values.map((v) => boxCox(v, lambda));
  let logSum = 0;
  for (const v of values) logSum += Math.log(v);
  return (-n / 2) * Math.log(variance(transformed)) + (lambda - 1) * logSum;
}

const GOLDEN = (1 + Math.sqrt(5)) / 2;

/**
 * The minimizer of `f`: scipy's downhill bracketing from (a, b), then golden-section search. The
 * likelihoods above are unimodal in lambda for non-constant data, so this finds scipy's `brent` optimum.
 */
export function minimizeScalar(f: (x: number) => number, a = -2, b = 2, tolerance = 1e-10): number {
  let fa = f(a);
  let fb = f(b);
  if (fb > fa) {
    [a, b] = [b, a];
    [fa, fb] = [fb, fa];
  }
  let c = b + GOLDEN * (b - a);
  let fc = f(c);
  for (let i = 0; i < 200 && fc < fb; i++) {
    a = b;
    b = c;
    fb = fc;
    c = b + GOLDEN * (b - a);
    fc = f(c);
  }
  let lo = Math.min(a, c);
  let hi = Math.max(a, c);
  const ratio = 1 / GOLDEN;
  let x1 = hi - ratio * (hi - lo);
  let x2 = lo + ratio * (hi - lo);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let i = 0; i < 500 && hi - lo > tolerance * (1 + Math.abs(lo) + Math.abs(hi)); i++) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - ratio * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + ratio * (hi - lo);
      f2 = f(x2);
    }
  }
  return (lo + hi) / 2;
}

/** The maximum-likelihood lambda; 1 (the identity, up to a shift) for constant data, whose likelihood is flat. */
export function fitPowerLambda(values: Float64Array, method: 'yeo-johnson' | 'box-cox'): number {
  if (values.length < 2 || variance(values) === 0) return 1;
  const likelihood = method === 'yeo-johnson' ? yeoJohnsonLogLikelihood : boxCoxLogLikelihood;
  return minimizeScalar((lambda) => -likelihood(values, lambda));
}
