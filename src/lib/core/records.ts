/**
 * The records Lathe keeps, as zod schemas: the same definitions validate what the studio reads back
 * from IndexedDB, what the sync client sends and what the registry server accepts.
 */
import { z } from 'zod';
import { evaluationSpec, imageInputSpec, modelSpec, trainingSpec } from './models/model-spec';
import { PrepPipelineSchema } from './prep/prep-steps';

export const id = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a UUID');
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest');
/** Milliseconds since the Unix epoch. */
export const timestamp = z.number().int().nonnegative();

export const COLUMN_TYPES = [
  'integer',
  'float',
  'boolean',
  'date',
  'datetime',
  'categorical',
  'text',
  'identifier'
] as const;
export const columnType = z.enum(COLUMN_TYPES);
export type ColumnType = z.infer<typeof columnType>;

export const columnSchema = z.object({
  name: z.string().min(1),
  type: columnType,
  /** Cells that were empty or could not be read as `type`. */
  missing: z.number().int().nonnegative(),
  distinct: z.number().int().nonnegative().optional(),
  /** Set when `distinct` is an estimate (HyperLogLog): its relative standard error, e.g. 0.0081. */
  distinctError: z.number().positive().max(1).optional()
});
export type ColumnSchema = z.infer<typeof columnSchema>;

/** Fields every record has; `stamps` holds the hybrid logical clock of each mutable field. */
const base = {
  id,
  projectId: id,
  createdAt: timestamp,
  updatedAt: timestamp,
  stamps: z.record(z.string(), z.string()).optional()
};

export const COLUMN_ROLES = ['feature', 'target', 'ignore', 'identifier', 'weight', 'group'] as const;
export const columnRole = z.enum(COLUMN_ROLES);
export type ColumnRole = z.infer<typeof columnRole>;

export const project = z.object({ ...base, name: z.string().min(1).max(200) });
export type Project = z.infer<typeof project>;

export const dataset = z.object({
  ...base,
  name: z.string().min(1).max(200),
  latestVersionId: id.nullable(),
  deleted: z.boolean().optional(),
  /** What each column is for; columns not named are features. */
  roles: z.record(z.string(), columnRole).optional(),
  /** Checks every new version must pass (shapes in `core/data/expectations.ts`). */
  expectations: z.array(z.record(z.string(), z.unknown())).optional()
});
export type Dataset = z.infer<typeof dataset>;

export const chunkRef = z.object({
  hash: sha256,
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative()
});
export type ChunkRef = z.infer<typeof chunkRef>;

/** Immutable: one imported or derived state of a dataset, stored as Arrow IPC chunks. */
export const datasetVersion = z.object({
  ...base,
  datasetId: id,
  /** SHA-256 over the chunk hashes in order: the version's content name. */
  contentHash: sha256,
  rowCount: z.number().int().nonnegative(),
  columns: z.array(columnSchema),
  chunks: z.array(chunkRef),
  source: z.object({ name: z.string(), bytes: z.number().int().nonnegative(), format: z.string() }),
  /** Other blobs the rows name, such as the images of an image dataset (by SHA-256). */
  assets: z.array(sha256).optional(),
  /** The versions this one was made from (none for an import). */
  parentVersionIds: z.array(id).optional(),
  /** What made this version, for the history: "Imported iris.csv", "Changed price to float". */
  note: z.string().max(500).optional(),
  /** The recipe steps that derived it from its parent (shapes in `core/data/recipe.ts`). */
  recipe: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Cells that could not be read as their column's type, per column, with the first examples. */
  report: z
    .object({
      malformed: z.array(
        z.object({
          column: z.string(),
          count: z.number().int().nonnegative(),
          examples: z.array(z.object({ row: z.number().int(), value: z.string() })).max(20)
        })
      ),
      warnings: z.array(z.string())
    })
    .optional()
});
export type DatasetVersion = z.infer<typeof datasetVersion>;

/** Immutable: a stored train/validation/test (or k-fold) assignment of a version's rows. */
export const datasetSplit = z.object({
  ...base,
  datasetId: id,
  versionId: id,
  name: z.string().min(1).max(200),
  /** The split spec (shapes in `core/pipeline/splits.ts`) and the hash of its canonical JSON. */
  spec: z.record(z.string(), z.unknown()),
  specHash: sha256,
  /** Blob of one byte per row: 0 train, 1 validation, 2 test — or the fold index for k-fold. */
  assignments: sha256,
  counts: z.record(z.string(), z.number().int().nonnegative())
});
export type DatasetSplit = z.infer<typeof datasetSplit>;

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export const backendName = z.enum(BACKENDS);
export type BackendName = z.infer<typeof backendName>;

export const task = z.enum(['classification', 'regression']);
export type Task = z.infer<typeof task>;

/**
 * Runs made before models had architectures named the model and optimizer by a string and listed
 * `standardize` as their only preprocessing; read back (from IndexedDB or the server) they become
 * today's shape with the same meaning.
 */
function upgradeRunSpec(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const spec = { ...(value as Record<string, unknown>) };
  if (typeof spec.model === 'string') spec.model = { kind: spec.model };
  if (Array.isArray(spec.preprocessing)) spec.preprocessing = { pipeline: null };
  const training = spec.training;
  if (typeof training === 'object' && training !== null) {
    const t = { ...(training as Record<string, unknown>) };
    if (typeof t.optimizer === 'string') {
      t.optimizer = { kind: t.optimizer, learningRate: t.learningRate };
      delete t.learningRate;
    }
    spec.training = t;
  }
  return spec;
}

const runSpecShape = z.object({
  datasetId: id,
  datasetVersionId: id,
  target: z.string().min(1),
  features: z.array(z.string().min(1)).min(1),
  task,
  model: modelSpec,
  split: z.object({
    testFraction: z.number().gt(0).lt(1),
    /** Share of all rows held out for validation (early stopping, learning curves); 0: none. */
    validationFraction: z.number().min(0).lt(1).default(0),
    seed: z.number().int()
  }),
  /** A split stored with the dataset version; when set, it decides the rows instead of `split`. */
  splitId: id.optional(),
  preprocessing: z.object({
    /** Column groups and their steps; null: the defaults for the features' types (`defaultPipeline`). */
    pipeline: PrepPipelineSchema.nullable().default(null)
  }),
  /** Image input for a `cnn` model. */
  image: imageInputSpec.optional(),
  /** Rows whose target is missing are dropped (the person agreed); otherwise training refuses them. */
  dropMissingTarget: z.boolean().default(false),
  training: trainingSpec,
  evaluation: evaluationSpec.default({ crossValidationFolds: 0, permutationImportance: true, sliceBy: null }),
  seed: z.number().int()
});
export const runSpec = z.preprocess(upgradeRunSpec, runSpecShape);
/** A run spec as written by a caller: defaults may be left out. */
export type RunSpecInput = z.input<typeof runSpecShape>;
export type RunSpec = z.infer<typeof runSpec>;

export const adapterInfo = z.object({
  vendor: z.string(),
  architecture: z.string(),
  description: z.string(),
  isFallbackAdapter: z.boolean()
});
export type AdapterInfo = z.infer<typeof adapterInfo>;

export const runEnvironment = z.object({
  backend: backendName,
  backendReason: z.string(),
  adapter: adapterInfo.nullable(),
  userAgent: z.string(),
  libraries: z.record(z.string(), z.string()),
  threads: z.number().int().nonnegative().optional(),
  seed: z.number().int()
});
export type RunEnvironment = z.infer<typeof runEnvironment>;

/** `interrupted`: the tab closed while it trained; it resumes from its last checkpoint in that browser. */
export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'] as const;
export const runStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatus>;

export const run = z.object({
  ...base,
  name: z.string().min(1).max(200),
  status: runStatus,
  spec: runSpec,
  environment: runEnvironment.nullable(),
  /** Final metrics on the held-out split, e.g. `{ accuracy: 0.93 }` or `{ rmse: 4.1 }`. */
  metrics: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  /** Content-addressed outputs: the trained model (`core/models/model-artifact`) and the evaluation JSON. */
  artifacts: z.object({ model: sha256.optional(), evaluation: sha256.optional() }).optional(),
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable()
});
export type Run = z.infer<typeof run>;

export const metricPoint = z.object({
  step: z.number().int().nonnegative(),
  value: z.number(),
  time: timestamp
});
export type MetricPoint = z.infer<typeof metricPoint>;

/** Immutable once the run ends: one named series (e.g. `loss`, `val_loss`) of a run. */
export const metricSeries = z.object({
  ...base,
  runId: id,
  name: z.string().min(1).max(100),
  points: z.array(metricPoint)
});
export type MetricSeries = z.infer<typeof metricSeries>;
