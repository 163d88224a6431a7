/**
 * The state a pipeline learns from the training rows: plain JSON (numbers, strings, arrays), validated
 * with zod when it is read back from storage or a model manifest.
 */
import { z } from 'zod';
import { LatheError } from '../errors';
import { NormalizeTextStepSchema, TokenizeStepSchema, VectorizeStepSchema } from './prep-steps';

const finite = z.number().finite();

const FittedImputeSchema = z.object({
  kind: z.literal('impute'),
  strategy: z.enum(['mean', 'median', 'most_frequent', 'constant']),
  fill: z.array(finite),
  /** Indexes (within the group) of the columns that get a missing-indicator column. */
  indicatorColumns: z.array(z.number().int().min(0))
});

const FittedScaleSchema = z.object({
  kind: z.literal('scale'),
  method: z.enum(['standard', 'minmax', 'robust']),
  /** x ↦ (x − center) / scale, per column. */
  center: z.array(finite),
  scale: z.array(finite)
});

const FittedPowerSchema = z.object({
  kind: z.literal('power'),
  method: z.enum(['yeo-johnson', 'box-cox']),
  lambdas: z.array(finite),
  /** Standardization of the transformed training values; null when the step does not standardize. */
  mean: z.array(finite).nullable(),
  std: z.array(finite).nullable()
});

export const FittedNumericStepSchema = z.discriminatedUnion('kind', [
  FittedImputeSchema,
  FittedScaleSchema,
  z.object({ kind: z.literal('log1p') }),
  FittedPowerSchema
]);

const FittedNumericGroupSchema = z.object({
  kind: z.literal('numeric'),
  columns: z.array(z.string()),
  steps: z.array(FittedNumericStepSchema)
});

const FittedCategoricalGroupSchema = z.object({
  kind: z.literal('categorical'),
  columns: z.array(z.string()),
  method: z.enum(['one_hot', 'ordinal']),
  /** Sorted training categories per column; code k (one past the last) is "unknown". */
  categories: z.array(z.array(z.string())),
  impute: z
    .object({
      strategy: z.enum(['most_frequent', 'constant']),
      fill: z.array(z.string()),
      indicatorColumns: z.array(z.number().int().min(0))
    })
    .nullable()
});

const FittedTextGroupSchema = z.object({
  kind: z.literal('text'),
  columns: z.array(z.string()),
  normalize: NormalizeTextStepSchema.nullable(),
  tokenize: TokenizeStepSchema,
  vectorize: VectorizeStepSchema,
  vocabularies: z.array(z.array(z.string())),
  /** Smoothed IDF per vocabulary token (TF-IDF only). */
  idf: z.array(z.array(finite)).nullable()
});

export const FittedGroupSchema = z.discriminatedUnion('kind', [
  FittedNumericGroupSchema,
  FittedCategoricalGroupSchema,
  FittedTextGroupSchema
]);

export const FittedPipelineSchema = z.object({
  version: z.literal(1),
  groups: z.array(FittedGroupSchema),
  /** One name per output feature column, in tensor order. */
  outputNames: z.array(z.string()),
  /** Things the fit worked around (zero variance, …), for the UI. */
  warnings: z.array(z.string()),
  trainRows: z.number().int().min(0)
});

export type FittedNumericStep = z.infer<typeof FittedNumericStepSchema>;
export type FittedGroup = z.infer<typeof FittedGroupSchema>;
export type FittedNumericGroup = z.infer<typeof FittedNumericGroupSchema>;
export type FittedCategoricalGroup = z.infer<typeof FittedCategoricalGroupSchema>;
export type FittedTextGroup = z.infer<typeof FittedTextGroupSchema>;
export type FittedPipeline = z.infer<typeof FittedPipelineSchema>;

/** A fitted pipeline read back from JSON (a stored run, a model manifest). */
export function parseFittedPipeline(json: unknown): FittedPipeline {
  const parsed = FittedPipelineSchema.safeParse(json);
  if (!parsed.success) {
    throw new LatheError(
      'prep_fitted_invalid',
      'The stored preprocessing state is damaged or from another version.',
      {
        issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
      }
    );
  }
  return parsed.data;
}
