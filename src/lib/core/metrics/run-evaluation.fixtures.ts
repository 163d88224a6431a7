/**
 * Reproducible evaluation inputs shaped like real runs (hundreds of rows, noisy but useful models), for
 * tests and for looking at the evaluation page without training anything. Same seed, same documents.
 */
import { seededRandom } from '../pipeline/split';
import { buildRunEvaluation, type EvaluationInput, type RunEvaluation } from './run-evaluation';

function normal(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), Number.EPSILON);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

/** Rows of softmax probabilities whose true class gets `signal` extra logit on average. */
function classifierOutputs(
  rows: number,
  classes: number,
  signal: number,
  seed: number,
  groupNames: string[] = []
): { yTrue: Float32Array; proba: Float32Array; groups: string[] } {
  const random = seededRandom(seed);
  const gauss = normal(random);
  const yTrue = new Float32Array(rows);
  const proba = new Float32Array(rows * classes);
  const groups: string[] = [];
  for (let r = 0; r < rows; r++) {
    const group = groupNames.length ? Math.floor(random() * groupNames.length) : 0;
    // classes are unbalanced on purpose (the first is the most common), as real labels usually are
    const c = Math.min(classes - 1, Math.floor(classes * random() ** 1.3));
    yTrue[r] = c;
    // the model is a little worse on later groups, which the fairness table should reveal
    const logits = Array.from(
      { length: classes },
      (_, k) => gauss() + (k === c ? signal * (1 - 0.2 * group) : 0)
    );
    const max = Math.max(...logits);
    const exp = logits.map((l) => Math.exp(l - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    exp.forEach((e, k) => (proba[r * classes + k] = e / sum));
    if (groupNames.length) groups.push(groupNames[group] ?? '');
  }
  return { yTrue, proba, groups };
}

/** Loss curves that fall and flatten; with `overfitAfter`, validation loss turns up from that epoch. */
function lossHistory(
  epochs: number,
  start: number,
  floor: number,
  seed: number,
  overfitAfter?: number
): { loss: number[]; valLoss: number[] } {
  const random = seededRandom(seed);
  const loss: number[] = [];
  const valLoss: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const base = floor + (start - floor) * Math.exp(-e / 5);
    loss.push(base * (1 + 0.02 * (random() - 0.5)));
    const rise = overfitAfter !== undefined && e > overfitAfter ? 0.02 * (e - overfitAfter) : 0;
    valLoss.push(base * 1.08 + rise + 0.01 * (random() - 0.5));
  }
  return { loss, valLoss };
}

export function binaryEvaluationInput(): EvaluationInput {
  const plans = ['basic', 'plus', 'pro'];
  const test = classifierOutputs(400, 2, 2.2, 11, plans);
  const validation = classifierOutputs(240, 2, 2.2, 12, plans);
  return {
    task: 'classification',
    labels: ['stayed', 'churned'],
    predictions: [
      {
        split: 'validation',
        yTrue: validation.yTrue,
        yPred: new Float32Array(0),
        proba: validation.proba,
        groups: validation.groups
      },
      { split: 'test', yTrue: test.yTrue, yPred: new Float32Array(0), proba: test.proba, groups: test.groups }
    ],
    sliceBy: 'plan',
    importance: {
      metric: 'accuracy',
      baseline: 0.84,
      features: [
        { feature: 'tenure_months', mean: 0.112, std: 0.014 },
        { feature: 'monthly_charges', mean: 0.064, std: 0.011 },
        { feature: 'contract', mean: 0.051, std: 0.009 },
        { feature: 'support_calls', mean: 0.018, std: 0.006 },
        { feature: 'region', mean: 0.002, std: 0.004 },
        { feature: 'customer_age', mean: -0.003, std: 0.005 }
      ]
    },
    history: lossHistory(24, 0.69, 0.34, 13),
    bestEpoch: 19,
    stoppedEarly: true,
    crossValidation: [0.83, 0.86, 0.81, 0.85, 0.84].map((accuracy, i) => ({
      accuracy,
      balanced_accuracy: accuracy - 0.03 + 0.01 * i,
      f1_macro: accuracy - 0.05 + 0.005 * i,
      roc_auc: 0.9 + 0.01 * (i % 3)
    }))
  };
}

export function multiclassEvaluationInput(): EvaluationInput {
  const test = classifierOutputs(300, 4, 1.9, 21);
  return {
    task: 'classification',
    labels: ['setosa', 'versicolor', 'virginica', 'hybrid'],
    predictions: [{ split: 'test', yTrue: test.yTrue, yPred: new Float32Array(0), proba: test.proba }],
    sliceBy: null,
    importance: {
      metric: 'accuracy',
      baseline: 0.8,
      features: [
        { feature: 'petal_length', mean: 0.31, std: 0.03 },
        { feature: 'petal_width', mean: 0.22, std: 0.025 },
        { feature: 'sepal_length', mean: 0.04, std: 0.012 },
        { feature: 'sepal_width', mean: 0.01, std: 0.008 }
      ]
    },
    // validation loss bottoms out around epoch 12 and climbs while training loss keeps falling
    history: lossHistory(30, 1.39, 0.2, 23, 12),
    bestEpoch: null,
    stoppedEarly: false,
    crossValidation: null
  };
}

export function regressionEvaluationInput(): EvaluationInput {
  const random = seededRandom(31);
  const gauss = normal(random);
  const regions = ['north', 'south', 'east', 'west'];
  const rows = 500;
  const yTrue = new Float32Array(rows);
  const yPred = new Float32Array(rows);
  const groups: string[] = [];
  for (let r = 0; r < rows; r++) {
    const g = Math.floor(random() * regions.length);
    const actual = 120 + 40 * gauss() + 15 * g;
    yTrue[r] = actual;
    // errors grow with the value (heteroscedastic), as prices' do; "west" is predicted worse
    yPred[r] = actual * 0.95 + 6 + gauss() * (6 + 0.08 * Math.abs(actual)) * (g === 3 ? 1.8 : 1);
    groups.push(regions[g] ?? '');
  }
  return {
    task: 'regression',
    labels: null,
    predictions: [{ split: 'test', yTrue, yPred, proba: null, groups }],
    sliceBy: 'region',
    importance: {
      metric: 'r2',
      baseline: 0.78,
      features: [
        { feature: 'floor_area', mean: 0.52, std: 0.04 },
        { feature: 'location', mean: 0.21, std: 0.03 },
        { feature: 'year_built', mean: 0.07, std: 0.015 },
        { feature: 'description', mean: 0.03, std: 0.01 }
      ]
    },
    history: lossHistory(40, 1.2, 0.22, 33),
    bestEpoch: null,
    stoppedEarly: false,
    crossValidation: [
      { rmse: 18.2, mae: 13.9, r2: 0.79, mape: 0.121 },
      { rmse: 19.6, mae: 14.8, r2: 0.76, mape: 0.133 },
      { rmse: 17.4, mae: 13.1, r2: 0.81, mape: 0.115 }
    ]
  };
}

/** The three fixtures as documents, as the evaluation page receives them. */
export function evaluationFixtures(): Record<'binary' | 'multiclass' | 'regression', RunEvaluation> {
  return {
    binary: buildRunEvaluation(binaryEvaluationInput()),
    multiclass: buildRunEvaluation(multiclassEvaluationInput()),
    regression: buildRunEvaluation(regressionEvaluationInput())
  };
}
