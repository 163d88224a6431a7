/**
 * The verdict of the training benchmark (scripts/bench.mjs), from its measurements alone: per model, the
 * browser backend with the highest steady throughput, its ratio to PyTorch on the CPU, and a sentence
 * saying why it won (software adapters, a backend lacking the model's kernels, plain speed). Pure, so
 * scripts/bench-summary.spec.ts checks the wording on made-up results.
 */

/**
 * @typedef {{ description?: string, architecture?: string, vendor?: string }} Adapter
 * @typedef {object} BackendEntry one requested backend: the bench page's timing, or why it has none
 * @property {boolean} [ran]
 * @property {string} [used] the backend that trained (differs from the key when the worker fell back)
 * @property {string} [reason]
 * @property {Adapter | null} [adapter]
 * @property {number | null} [threads]
 * @property {number} [steadySamplesPerSec]
 * @property {number} [firstEpochSamplesPerSec]
 * @property {string} [error]
 * @property {boolean | null} [available]
 * @property {string | null} [reasonUnavailable]
 * @typedef {{ name: string, isSoftware: boolean, softwareName?: string }} Probe
 * @typedef {{ steadySamplesPerSec?: number, firstEpochSamplesPerSec?: number, error?: string }} TorchModel
 * @typedef {object} TorchReport scripts/bench-torch.py's output
 * @property {boolean} available
 * @property {string} [reason]
 * @property {string} [torch]
 * @property {number} [threads]
 * @property {Record<string, TorchModel>} [models]
 */

/** @type {Record<string, string>} */
const DISPLAY = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'wasm', cpu: 'cpu' };
/**
 * How src/lib/core/backend/choose-backend.ts names each backend in its reasons.
 * @type {Record<string, string>}
 */
const REASON_NAMES = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WebAssembly', cpu: 'the CPU backend' };

/**
 * @param {number | undefined} a
 * @param {number | undefined} b
 * @returns {number | null}
 */
function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? a / b
    : null;
}

/**
 * "12×" from 10 up, "2.4×" below.
 * @param {number | null} r
 */
export function times(r) {
  if (r === null) return '?×';
  return r >= 10 ? `${Math.round(r)}×` : `${r.toFixed(1)}×`;
}

/** @param {number} value */
function perSecond(value) {
  return `${Math.round(value).toLocaleString('en-US')} samples/s`;
}

/**
 * The adapter's most telling name: description, else architecture, else vendor.
 * @param {{ adapter?: Adapter | null } | undefined} entry
 */
export function adapterName(entry) {
  const a = entry?.adapter;
  return a ? a.description || a.architecture || a.vendor || '' : '';
}

/** @param {number | null | undefined} n */
function threadsOf(n) {
  return `${n ?? '?'} thread${n === 1 ? '' : 's'}`;
}

/**
 * @param {string} model 'mlp' | 'cnn' | 'logistic'
 * @param {Record<string, BackendEntry>} entries per requested backend
 * @param {Probe[] | undefined} probes the train worker's backend probes
 * @param {TorchReport | null} torch
 */
export function summarize(model, entries, probes, torch) {
  const trained = Object.entries(entries).filter(
    ([b, e]) => e.ran && e.used === b && Number.isFinite(e.steadySamplesPerSec)
  );
  if (trained.length === 0) {
    return { winner: null, ratioToPytorch: null, why: 'No browser backend completed this model.' };
  }
  /** @param {'steadySamplesPerSec' | 'firstEpochSamplesPerSec'} key */
  const fastest = (key) => trained.reduce((a, b) => ((b[1][key] ?? 0) > (a[1][key] ?? 0) ? b : a));
  const [winner, best] = fastest('steadySamplesPerSec');
  const [firstWinner, firstBest] = fastest('firstEpochSamplesPerSec');
  /** @param {string} b @returns {string | null} the software rasteriser behind backend `b` */
  const softwareOf = (b) => {
    const probe = probes?.find((p) => p.name === b);
    return probe?.isSoftware ? (probe.softwareName ?? 'a software adapter') : null;
  };

  const winnerSoftware = softwareOf(winner);
  let head = `${winner} won`;
  if (winner === 'webgpu' || winner === 'webgl') {
    head += ` on ${winnerSoftware ? `${winnerSoftware} (software)` : adapterName(best) || 'its adapter'}`;
  }
  head += ` at ${perSecond(best.steadySamplesPerSec ?? NaN)}`;
  if (winner === 'wasm') head += ` (${threadsOf(best.threads)})`;

  /** @type {string[]} */
  const clauses = [];
  const software = trained.filter(([b]) => b !== winner && softwareOf(b));
  if (software.length > 0) {
    const names = software.map(([b]) => DISPLAY[b] ?? b);
    const slower = software.map(([, e]) => times(ratio(best.steadySamplesPerSec, e.steadySamplesPerSec)));
    const rasterisers = [...new Set(software.map(([b]) => softwareOf(b)))].join(' and ');
    clauses.push(
      `${names.join(' and ')} ${software.length > 1 ? 'run' : 'runs'} on ${rasterisers} (software, no GPU), ${slower.join(' and ')} slower`
    );
  }
  for (const [b, e] of trained) {
    if (b === winner || softwareOf(b)) continue;
    const label = b === 'webgpu' || b === 'webgl' ? `${b} (${adapterName(e)})` : b;
    clauses.push(`${label} ${times(ratio(best.steadySamplesPerSec, e.steadySamplesPerSec))} slower`);
  }
  for (const [b, e] of Object.entries(entries)) {
    if (e.ran && e.used === b) continue;
    if (e.used && e.used !== b) {
      // The backend choice's reason has one clause per backend passed over; quote this one's.
      const clause = (e.reason ?? '').split('; ').find((c) => c.startsWith(REASON_NAMES[b] ?? b));
      clauses.push(`${b} cannot train it, the worker used ${e.used}${clause ? ` ("${clause}")` : ''}`);
    } else if (e.error) clauses.push(`${b} failed (${e.error})`);
    else if (e.available === false)
      clauses.push(`${b} is unavailable (${e.reasonUnavailable ?? 'not offered'})`);
  }

  const torchModel = torch?.available ? torch.models?.[model] : null;
  const vsTorch = ratio(best.steadySamplesPerSec, torchModel?.steadySamplesPerSec);
  const firstVsTorch = ratio(firstBest.firstEpochSamplesPerSec, torchModel?.firstEpochSamplesPerSec);
  if (vsTorch !== null) {
    const who = `PyTorch ${torch?.torch} on the CPU (${threadsOf(torch?.threads)})`;
    clauses.push(
      vsTorch >= 1 ? `${times(vsTorch)} as fast as ${who}` : `${who} is ${times(1 / vsTorch)} faster`
    );
  } else if (torch && !torch.available) {
    clauses.push(`PyTorch ${torch.reason}`);
  } else if (torchModel?.error) {
    clauses.push(`PyTorch failed (${torchModel.error})`);
  }
  if (firstWinner !== winner) clauses.push(`the first epoch was fastest on ${firstWinner}`);
  return {
    winner,
    winnerSoftware: winnerSoftware !== null,
    steadySamplesPerSec: best.steadySamplesPerSec,
    firstEpochWinner: firstWinner,
    firstEpochSamplesPerSec: firstBest.firstEpochSamplesPerSec,
    pytorchSteadySamplesPerSec: torchModel?.steadySamplesPerSec ?? null,
    pytorchFirstEpochSamplesPerSec: torchModel?.firstEpochSamplesPerSec ?? null,
    ratioToPytorch: vsTorch,
    firstEpochRatioToPytorch: firstVsTorch,
    why: `${[head, ...clauses].join('; ')}.`
  };
}
