/**
 * Calibration results and where they are cached. Timing every backend takes seconds (a GPU backend
 * compiles its shaders on first use), so the results are kept per browser, adapter and tfjs version
 * and measured again only when one of those changes or the user asks to recalibrate.
 */
import { z } from 'zod';
import { backendName, type BackendName } from '../records';

/** Bump when the micro-benchmark changes, so old timings are not compared with new ones. */
export const CALIBRATION_FORMAT = 1;

/** The meta key under which the user's backend choice from Settings is kept (null: automatic). */
export const BACKEND_OVERRIDE_META_KEY = 'settings.backendOverride';

export interface CalibrationContext {
  userAgent: string;
  /** The WebGPU adapter's vendor/architecture/description, or null when there is none. */
  gpuAdapter: string | null;
  /** The unmasked WebGL renderer string, or null when there is no WebGL2. */
  glRenderer: string | null;
  tfjsVersion: string;
  /** wasm threads: a cross-origin-isolated page runs several, which changes its speed. */
  wasmThreads: number;
}

export function calibrationCacheKey(context: CalibrationContext): string {
  const parts = [
    `v${CALIBRATION_FORMAT}`,
    `tfjs=${context.tfjsVersion}`,
    `threads=${context.wasmThreads}`,
    `gpu=${context.gpuAdapter ?? 'none'}`,
    `gl=${context.glRenderer ?? 'none'}`,
    `ua=${context.userAgent}`
  ];
  return `backend-calibration:${parts.join('|')}`;
}

/**
 * Only successful timings are cached: a backend that failed to start may work next time (a driver
 * update, a GPU that was busy), so a failure is never remembered.
 */
const calibrationEntry = z.object({ msPerStep: z.number().positive() });
export type CalibrationEntry = z.infer<typeof calibrationEntry>;

export const calibrationRecord = z.object({
  format: z.literal(CALIBRATION_FORMAT),
  measuredAt: z.number().int().nonnegative(),
  entries: z.partialRecord(backendName, calibrationEntry)
});
export type CalibrationRecord = z.infer<typeof calibrationRecord>;

/**
 * A cached record read back from IndexedDB, or null when it is missing, from an older format or
 * damaged — any of which simply means "calibrate again".
 */
export function parseCalibrationRecord(value: unknown): CalibrationRecord | null {
  const parsed = calibrationRecord.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Merge new measurements into a cached record; backends not re-measured keep their old result. */
export function mergeCalibration(
  previous: CalibrationRecord | null,
  entries: Partial<Record<BackendName, CalibrationEntry>>,
  now: number
): CalibrationRecord {
  return { format: CALIBRATION_FORMAT, measuredAt: now, entries: { ...previous?.entries, ...entries } };
}

export function msPerStepOf(record: CalibrationRecord | null, name: BackendName): number | undefined {
  return record?.entries[name]?.msPerStep;
}

/** The steps' median: one slow step (a GC pause, a late shader compile) must not decide the backend. */
export function medianMs(samples: ReadonlyArray<number>): number {
  if (samples.length === 0) throw new RangeError('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
