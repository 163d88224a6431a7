/**
 * The train worker: probes and calibrates tfjs backends, reads a dataset version's Arrow chunks,
 * trains the run's model and streams progress. It is the only module that calls `tf.setBackend`.
 * Backends are imported only when probed; a failed import is retried on the next probe.
 */
import { expose, releaseProxy } from 'comlink';
import { installErrorSerializer } from './error-serializer';
import * as tf from '@tensorflow/tfjs-core';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { softwareRendererName } from '../src/lib/core/backend/adapter';
import {
  BACKEND_OVERRIDE_META_KEY,
  calibrationCacheKey,
  mergeCalibration,
  msPerStepOf,
  parseCalibrationRecord,
  type CalibrationEntry
} from '../src/lib/core/backend/calibration';
import {
  chooseBackend,
  type BackendChoice,
  type BackendProbe,
  type BackendRequirements
} from '../src/lib/core/backend/choose-backend';
import { runMicroBenchmark } from '../src/lib/core/backend/micro-benchmark';
import { registerWasmTrainingKernels } from '../src/lib/core/backend/wasm-training-kernels';
import { readChunks } from '../src/lib/core/data/arrow';
import { LatheError, errorMessage } from '../src/lib/core/errors';
import { sha256Hex } from '../src/lib/core/hash';
import { decodeCheckpoint, encodeCheckpoint } from '../src/lib/core/models/checkpoint';
import { encodeModel } from '../src/lib/core/models/model-artifact';
import { trainRun } from '../src/lib/core/models/run-training';
import type { TrainingCheckpoint } from '../src/lib/core/models/trainer';
import { canonicalJson } from '../src/lib/core/pipeline/splits';
import { getBlob, putBlob } from '../src/lib/db/blob.repository';
import { deleteCheckpoint, getCheckpoint, saveCheckpoint } from '../src/lib/db/checkpoint.repository';
import {
  backendName,
  runSpec,
  type AdapterInfo,
  type BackendName,
  type RunEnvironment,
  type RunSpec
} from '../src/lib/core/records';
import {
  getSplit,
  getVersion,
  readSplitAssignments,
  readVersionChunks
} from '../src/lib/db/dataset.repository';
import { getMeta, setMeta } from '../src/lib/db/meta.repository';
import type {
  BackendReport,
  ProbeOptions,
  TrainEvent,
  TrainRequest,
  TrainResult,
  TrainWorkerApi
} from './train-api';

/** Node (the worker's own tests) has no `navigator` before v21. */
function userAgent(): string {
  return typeof navigator === 'undefined' ? 'unknown' : navigator.userAgent;
}

function hardwareThreads(): number {
  return typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1;
}

/** The XNNPACK pool tfjs-backend-wasm 4.22 makes: half the logical cores, at least 1, at most 8. */
function expectedWasmThreads(): number {
  if (!WASM_THREADS || !globalThis.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(8, Math.floor(hardwareThreads() / 2)));
}

/**
 * Multi-threaded wasm (XNNPACK) needs a cross-origin-isolated page, which the studio is. tfjs starts its
 * threads from its Emscripten factory's `toString()`, so worker bundles are not minified (see
 * vite.config.ts). tfjs itself caps the pool at half the logical cores (one thread per physical core),
 * so a 2-core machine trains on 1 thread (with the single-threaded build) and an 8-core one on 4.
 */
const WASM_THREADS = true;

/** Backend requirements of a report: the automatic choice for models without convolutions. */
const DEFAULT_REQUIREMENTS = { needsConvGradients: false };
/** Convolutions and embeddings need gradient kernels not every backend has (`supportsConvGradients`). */
function gradientRequirements(model: RunSpec['model']): BackendRequirements {
  if (model.kind === 'cnn') return { needsConvGradients: true, kernels: 'convolution' };
  if (model.kind === 'text_embedding') return { needsConvGradients: true, kernels: 'embedding' };
  return DEFAULT_REQUIREMENTS;
}

/** A backend whose micro-benchmark takes longer than this is treated as broken for this session. */
const CALIBRATION_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------------
// Backends

const backendModules = new Map<BackendName, Promise<string>>();

/** Imports a backend's package (which registers it with tfjs) and returns its version. */
function loadBackend(name: BackendName): Promise<string> {
  const existing = backendModules.get(name);
  if (existing) return existing;
  const loading = importBackend(name).catch((err: unknown) => {
    // Never cache a failed import: a flaky network or a later deploy may make the next attempt work.
    backendModules.delete(name);
    throw err;
  });
  backendModules.set(name, loading);
  return loading;
}

async function importBackend(name: BackendName): Promise<string> {
  switch (name) {
    case 'cpu':
      return (await import('@tensorflow/tfjs-backend-cpu')).version_cpu;
    case 'webgl':
      return (await import('@tensorflow/tfjs-backend-webgl')).version_webgl;
    case 'webgpu':
      await import('@tensorflow/tfjs-backend-webgpu');
      // It exports no version of its own; tfjs packages are released in lockstep with tfjs-core.
      return tf.version_core;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // Bundled by Vite and served by the studio itself: nothing is fetched from a CDN, so it works offline.
      wasm.setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl
      });
      if (expectedWasmThreads() > 1) {
        // Threads need SharedArrayBuffer, which only a cross-origin-isolated page has. tfjs caps the
        // count at hardwareConcurrency / 2; asking for every logical core lets it take that cap.
        wasm.setThreadsCount(hardwareThreads());
      } else {
        // One thread either way: the single-threaded build skips the shared-memory thread pool.
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      }
      registerWasmTrainingKernels();
      return wasm.version_wasm;
    }
  }
}

let activeBackend: BackendName | null = null;

async function activate(name: BackendName): Promise<void> {
  await loadBackend(name);
  if (activeBackend === name) return;
  activeBackend = null;
  const ok = await tf.setBackend(name);
  if (!ok) throw new LatheError('backend_failed', `The ${name} backend could not start in this browser.`);
  await tf.ready();
  activeBackend = name;
}

async function wasmThreads(): Promise<number | undefined> {
  if (!backendModules.has('wasm')) return undefined;
  try {
    return (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// Probes

interface ProbedBackend {
  probe: BackendProbe;
  /** What the run's environment records as the adapter; null for wasm and cpu. */
  adapter: AdapterInfo | null;
  /** The string that identifies the device in the calibration cache key. */
  identity: string | null;
}

const SUPPORTS_CONV_GRADIENTS: Record<BackendName, boolean> = {
  webgpu: true,
  webgl: true,
  // tfjs-backend-wasm 4.22 lacks Conv2DBackpropFilter and UnsortedSegmentSum;
  // `registerWasmTrainingKernels` adds them when the backend is imported.
  wasm: true,
  cpu: true
};

function unavailable(name: BackendName, reason: string): ProbedBackend {
  return {
    probe: {
      name,
      available: false,
      reasonUnavailable: reason,
      isSoftware: false,
      supportsConvGradients: SUPPORTS_CONV_GRADIENTS[name]
    },
    adapter: null,
    identity: null
  };
}

async function probeWebGpu(): Promise<ProbedBackend> {
  const gpu = typeof navigator === 'undefined' ? undefined : navigator.gpu;
  if (!gpu) return unavailable('webgpu', 'this browser does not expose WebGPU');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return unavailable('webgpu', `requesting an adapter failed: ${errorMessage(err)}`);
  }
  if (!adapter) return unavailable('webgpu', 'no WebGPU adapter');
  // `info.isFallbackAdapter` is recent; older Chromium only had it on the adapter itself.
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const info = adapter.info as Partial<GPUAdapterInfo> | undefined;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const description = info?.description ?? '';
  const isFallbackAdapter = info?.isFallbackAdapter ?? legacy.isFallbackAdapter ?? false;
  const softwareName =
    softwareRendererName(description, architecture, vendor) ??
    (isFallbackAdapter ? 'fallback adapter' : null);
  return {
    probe: {
      name: 'webgpu',
      available: true,
      isSoftware: softwareName !== null,
      ...(softwareName ? { softwareName } : {}),
      supportsConvGradients: SUPPORTS_CONV_GRADIENTS.webgpu
    },
    adapter: { vendor, architecture, description, isFallbackAdapter },
    identity: [vendor, architecture, info?.device ?? '', description].join('/')
  };
}

function probeWebGl(): ProbedBackend {
  if (typeof OffscreenCanvas === 'undefined')
    return unavailable('webgl', 'OffscreenCanvas is missing in workers');
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return unavailable('webgl', 'no WebGL2 context');
  try {
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    const vendor = String(gl.getParameter(debug ? debug.UNMASKED_VENDOR_WEBGL : gl.VENDOR));
    const softwareName = softwareRendererName(renderer, vendor);
    return {
      probe: {
        name: 'webgl',
        available: true,
        isSoftware: softwareName !== null,
        ...(softwareName ? { softwareName } : {}),
        supportsConvGradients: SUPPORTS_CONV_GRADIENTS.webgl
      },
      adapter: { vendor, architecture: '', description: renderer, isFallbackAdapter: softwareName !== null },
      identity: `${vendor}/${renderer}`
    };
  } finally {
    // Browsers cap live WebGL contexts; the probe's own must not count against tfjs's.
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

function probeWasm(): ProbedBackend {
  if (typeof WebAssembly !== 'object') return unavailable('wasm', 'WebAssembly is disabled');
  return {
    probe: {
      name: 'wasm',
      available: true,
      isSoftware: false,
      supportsConvGradients: SUPPORTS_CONV_GRADIENTS.wasm
    },
    adapter: null,
    identity: null
  };
}

function probeCpu(): ProbedBackend {
  return {
    probe: {
      name: 'cpu',
      available: true,
      isSoftware: false,
      supportsConvGradients: SUPPORTS_CONV_GRADIENTS.cpu
    },
    adapter: null,
    identity: null
  };
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LatheError('calibration_timeout', message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

interface BackendState {
  report: BackendReport;
  adapters: Partial<Record<BackendName, AdapterInfo>>;
}

let preferred: BackendName | null | undefined;
/** This session's probe, reused by runs; recalibrating or changing the preference replaces it. */
let current: Promise<BackendState> | null = null;

/**
 * Settings and the calibration cache are conveniences: when IndexedDB cannot be read (private mode,
 * a blocked upgrade) training goes on with defaults instead of failing.
 */
async function readMeta(key: string): Promise<unknown> {
  try {
    return await getMeta<unknown>(key);
  } catch {
    return undefined;
  }
}

async function writeMeta(key: string, value: unknown): Promise<void> {
  try {
    await setMeta(key, value);
  } catch {
    // Not cached: the next session calibrates again.
  }
}

async function preferredBackend(): Promise<BackendName | null> {
  if (preferred === undefined) {
    const stored = backendName.nullable().safeParse((await readMeta(BACKEND_OVERRIDE_META_KEY)) ?? null);
    preferred = stored.success ? stored.data : null;
  }
  return preferred;
}

type Log = (message: string) => void;

async function probeAndCalibrate(options: ProbeOptions, log: Log): Promise<BackendState> {
  const webgpu = await probeWebGpu();
  const webgl = probeWebGl();
  const probed = [webgpu, webgl, probeWasm(), probeCpu()];
  const libraries: Record<string, string> = { '@tensorflow/tfjs-core': tf.version_core };
  const threads = expectedWasmThreads();
  const key = calibrationCacheKey({
    userAgent: userAgent(),
    gpuAdapter: webgpu.identity,
    glRenderer: webgl.identity,
    tfjsVersion: tf.version_core,
    wasmThreads: threads
  });
  const cached = options.recalibrate ? null : parseCalibrationRecord(await readMeta(key));

  const measured: Partial<Record<BackendName, CalibrationEntry>> = {};
  for (const { probe } of probed) {
    if (!probe.available) continue;
    if (probe.isSoftware && !options.calibrateSoftware) continue;
    const known = msPerStepOf(cached, probe.name);
    if (known !== undefined) {
      probe.msPerStep = known;
      continue;
    }
    log(`Calibrating the ${probe.name} backend…`);
    try {
      libraries[`@tensorflow/tfjs-backend-${probe.name}`] = await loadBackend(probe.name);
      const result = await withTimeout(
        activate(probe.name).then(() => runMicroBenchmark()),
        CALIBRATION_TIMEOUT_MS,
        `calibration took longer than ${CALIBRATION_TIMEOUT_MS / 1000} s`
      );
      probe.msPerStep = result.msPerStep;
      measured[probe.name] = { msPerStep: result.msPerStep };
    } catch (err) {
      // A backend that cannot run the micro-benchmark cannot train either.
      activeBackend = null;
      probe.available = false;
      probe.reasonUnavailable = `failed to start: ${errorMessage(err)}`;
    }
  }
  let record = cached;
  if (Object.keys(measured).length > 0) {
    record = mergeCalibration(cached, measured, Date.now());
    await writeMeta(key, record);
  }

  const probes = probed.map((p) => p.probe);
  const pref = await preferredBackend();
  const adapters: Partial<Record<BackendName, AdapterInfo>> = {};
  for (const p of probed) if (p.adapter) adapters[p.probe.name] = p.adapter;
  return {
    report: {
      probes,
      choice: chooseBackend(probes, DEFAULT_REQUIREMENTS, pref),
      preferred: pref,
      calibratedAt: record?.measuredAt ?? null,
      fromCache: record !== null && Object.keys(measured).length === 0,
      environment: { userAgent: userAgent(), libraries, threads: (await wasmThreads()) ?? threads }
    },
    adapters
  };
}

function backendState(options: ProbeOptions = {}, log: Log = () => undefined): Promise<BackendState> {
  if (!current || options.recalibrate || options.calibrateSoftware) {
    const next = exclusive(() => probeAndCalibrate(options, log));
    // A failed probe is not kept: the next call probes again.
    current = next.catch((err: unknown) => {
      current = null;
      throw err;
    });
  }
  return current;
}

// ---------------------------------------------------------------------------------------------------
// Training

/** tfjs has one global backend, so probing and training take turns. */
let lock: Promise<unknown> = Promise.resolve();
function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const run = lock.then(work, work);
  lock = run.catch(() => undefined);
  return run;
}

/** Runs this worker has accepted and not finished; `cancel` only marks those, so nothing piles up. */
const active = new Set<string>();
const cancelled = new Set<string>();

function parseSpec(value: unknown): RunSpec {
  const parsed = runSpec.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` (${issue.path.join('.')})` : '';
  throw new LatheError(
    'invalid_spec',
    `The run's settings are invalid${where}: ${issue?.message ?? 'unknown problem'}.`
  );
}

async function chunksOf(req: TrainRequest): Promise<ArrayBuffer[]> {
  if (req.chunks) return req.chunks;
  const version = await getVersion(req.spec.datasetVersionId);
  if (!version)
    throw new LatheError('version_missing', 'The dataset version of this run is no longer in this browser.');
  return readVersionChunks(version);
}

/**
 * Activates the chosen backend, falling back along the ranking when it fails to start; the reason
 * recorded on the run says so.
 */
async function activateChoice(
  choice: BackendChoice,
  log: Log
): Promise<{ backend: BackendName; reason: string }> {
  const tries = choice.ranking.filter((r) => r.verdict === 'chosen' || r.verdict === 'candidate');
  const failures: string[] = [];
  for (const candidate of tries) {
    try {
      await activate(candidate.name);
      const reason =
        failures.length > 0
          ? `${choice.reason}; ${failures.join('; ')}, so ${candidate.name} was used`
          : choice.reason;
      return { backend: candidate.name, reason };
    } catch (err) {
      activeBackend = null;
      failures.push(`${candidate.name} failed to start (${errorMessage(err)})`);
      log(`The ${candidate.name} backend failed to start: ${errorMessage(err)}`);
    }
  }
  throw new LatheError('no_backend', `No training backend could start: ${failures.join('; ')}.`);
}

/** Paused runs, each with the resolver that lets it go on. */
const paused = new Map<string, { resume: Promise<void>; release: () => void }>();
const HEARTBEAT_MS = 5_000;

function waitWhilePaused(runId: string, emit: (event: TrainEvent) => void): () => Promise<void> {
  return async () => {
    while (paused.has(runId) && !cancelled.has(runId)) {
      const entry = paused.get(runId);
      // Wake up now and then to tell the page's watchdog the worker is alive.
      await Promise.race([entry?.resume, new Promise((r) => setTimeout(r, HEARTBEAT_MS))]);
      if (paused.has(runId)) emit({ type: 'heartbeat' });
    }
  };
}

async function specHashOf(spec: RunSpec): Promise<string> {
  return sha256Hex(new TextEncoder().encode(canonicalJson(spec)));
}

async function train(req: TrainRequest, onEvent: (e: TrainEvent) => void): Promise<TrainResult> {
  // Progress is best effort: a page that went away must not fail the run, so delivery errors are dropped.
  const emit = (event: TrainEvent): void => {
    try {
      void Promise.resolve(onEvent(event)).catch(() => undefined);
    } catch {
      // The callback proxy is already closed.
    }
  };
  const log: Log = (message) => emit({ type: 'log', message });
  active.add(req.runId);
  try {
    const spec = parseSpec(req.spec);
    const requirements = gradientRequirements(spec.model);
    // Calibration emits log events, which also tell the page's watchdog that the worker is alive.
    const state = await backendState({}, log);
    return await exclusive(async () => {
      const override = req.backendOverride ?? state.report.preferred;
      const choice = chooseBackend(state.report.probes, requirements, override);
      const { backend, reason } = await activateChoice(choice, log);
      const libraries: Record<string, string> = {
        '@tensorflow/tfjs-core': tf.version_core,
        [`@tensorflow/tfjs-backend-${backend}`]: await loadBackend(backend)
      };
      const environment: RunEnvironment = {
        backend,
        backendReason: reason,
        adapter: backend === 'webgpu' || backend === 'webgl' ? (state.adapters[backend] ?? null) : null,
        userAgent: userAgent(),
        libraries,
        ...(backend === 'wasm' ? { threads: (await wasmThreads()) ?? expectedWasmThreads() } : {}),
        seed: spec.seed
      };
      emit({ type: 'backend', env: environment });
      const empty: TrainResult = {
        status: 'cancelled',
        metrics: {},
        series: { loss: [], val_loss: [] },
        environment,
        artifacts: {},
        epochsCompleted: 0,
        rows: { train: 0, validation: 0, test: 0 },
        warnings: []
      };
      if (cancelled.has(req.runId)) return empty;

      const table = readChunks(await chunksOf(req));
      const assignments = await storedSplitOf(spec, log);
      const specHash = await specHashOf(spec);
      let resume: TrainingCheckpoint | undefined;
      if (req.resume) {
        const row = await getCheckpoint(req.runId);
        if (!row) {
          throw new LatheError(
            'checkpoint_missing',
            'This run has no checkpoint in this browser, so it cannot resume; start it again instead.'
          );
        }
        resume = decodeCheckpoint(row.bytes, specHash);
        log(`Resuming from the checkpoint after epoch ${resume.epoch}.`);
        emit({ type: 'history', series: resume.series });
      }
      const outcome = await trainRun(table, spec, {
        ...(assignments ? { assignments } : {}),
        ...(resume ? { resume } : {}),
        loadImages: (hashes) => Promise.all(hashes.map((h) => getBlob(h))),
        onEpoch: (report) => emit({ type: 'epoch', ...report }),
        onBatch: (report) => emit({ type: 'batch', ...report }),
        onLog: log,
        onPhase: (message) => emit({ type: 'phase', message }),
        isCancelled: () => cancelled.has(req.runId),
        waitWhilePaused: waitWhilePaused(req.runId, emit),
        onCheckpoint: async (checkpoint) => {
          await saveCheckpoint({
            runId: req.runId,
            epoch: checkpoint.epoch,
            specHash,
            bytes: encodeCheckpoint(checkpoint, specHash)
          });
          emit({ type: 'checkpoint', epoch: checkpoint.epoch });
        }
      });
      if (outcome.droppedRows > 0)
        log(`Dropped ${outcome.droppedRows} rows whose target "${spec.target}" is empty.`);
      const artifacts: TrainResult['artifacts'] = {};
      if (outcome.model) artifacts.model = await putBlob(encodeModel(outcome.model));
      if (outcome.evaluation) {
        artifacts.evaluation = await putBlob(
          new TextEncoder().encode(JSON.stringify(outcome.evaluation)).buffer
        );
      }
      // A finished run needs no checkpoint; a cancelled one keeps nothing to resume either.
      await deleteCheckpoint(req.runId);
      return {
        status: outcome.status,
        metrics: outcome.metrics,
        series: outcome.series,
        environment,
        artifacts,
        epochsCompleted: outcome.epochsCompleted,
        rows: outcome.rows,
        warnings: outcome.warnings
      };
    });
  } finally {
    active.delete(req.runId);
    cancelled.delete(req.runId);
    paused.get(req.runId)?.release();
    paused.delete(req.runId);
    releaseCallback(onEvent);
  }
}

/** The stored split a run names, read from IndexedDB; k-fold splits hold out their first fold. */
async function storedSplitOf(spec: RunSpec, log: (message: string) => void): Promise<Uint8Array | null> {
  if (!spec.splitId) return null;
  const split = await getSplit(spec.splitId);
  if (!split || split.versionId !== spec.datasetVersionId) {
    throw new LatheError(
      'split_missing',
      'The split this run names is not stored with its dataset version in this browser.'
    );
  }
  const assignments = await readSplitAssignments(split);
  if (split.spec.kind !== 'kfold') return assignments;
  log(`Split "${split.name}" is k-fold: fold 1 is held out for testing, the others train.`);
  return assignments.map((fold) => (fold === 0 ? 2 : 0));
}

/** Frees the page-side end of the callback proxy; a plain function (a direct call in tests) has none. */
function releaseCallback(callback: unknown): void {
  const release: unknown = (callback as Partial<Record<typeof releaseProxy, unknown>>)[releaseProxy];
  try {
    if (typeof release === 'function') (release as () => void)();
  } catch {
    // Already released, or the page is gone.
  }
}

/** The worker's API; exported so Node tests can call it directly on the cpu backend. */
export const trainWorkerApi: TrainWorkerApi = {
  async ping() {
    return 'pong';
  },
  async probeBackends(opts) {
    return (await backendState(opts ?? {})).report;
  },
  async setPreferredBackend(name) {
    const parsed = name === null ? null : backendName.parse(name);
    await setMeta(BACKEND_OVERRIDE_META_KEY, parsed);
    preferred = parsed;
    // The next report must reflect the new preference; timings stay cached in IndexedDB.
    current = null;
  },
  train,
  async cancel(runId) {
    if (active.has(runId)) cancelled.add(runId);
    paused.get(runId)?.release();
    if (!active.has(runId)) paused.delete(runId);
  },
  async setPaused(runId, pause) {
    // Kept even for a run this worker has not started yet: its first batch then waits. `train` and
    // `cancel` clear it.
    if (pause && !paused.has(runId)) {
      let release: () => void = () => undefined;
      const resume = new Promise<void>((resolve) => (release = resolve));
      paused.set(runId, { resume, release });
    } else if (!pause) {
      paused.get(runId)?.release();
      paused.delete(runId);
    }
  }
};

// Exposed only when running as a worker, so the spec can import this module in Node.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  installErrorSerializer();
  expose(trainWorkerApi);
}
