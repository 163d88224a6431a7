/**
 * The preprocessing a run asks for, as data: ordered steps per column group. A numeric group takes
 * number and boolean columns, a categorical group takes string (or number/boolean, compared as text)
 * columns, a text group takes string columns and vectorizes each one with its own vocabulary.
 *
 * Validated with zod because a pipeline arrives from the UI and from stored run specs.
 */
import { z } from 'zod';

const columnName = z.string().min(1);

export const ImputeStepSchema = z.object({
  kind: z.literal('impute'),
  strategy: z.enum(['mean', 'median', 'most_frequent', 'constant']),
  /** The fill of `constant`: a number for numeric groups, a string for categorical ones. */
  fillValue: z.union([z.number().finite(), z.string()]).optional(),
  /** Appends a 0/1 column per input column that had missing cells in training (sklearn's default). */
  addIndicator: z.boolean().default(false)
});

export const ScaleStepSchema = z.object({
  kind: z.literal('scale'),
  method: z.enum(['standard', 'minmax', 'robust'])
});

export const Log1pStepSchema = z.object({ kind: z.literal('log1p') });

export const PowerStepSchema = z.object({
  kind: z.literal('power'),
  method: z.enum(['yeo-johnson', 'box-cox']).default('yeo-johnson'),
  /** Standardize the transformed values to mean 0, std 1 (sklearn's PowerTransformer default). */
  standardize: z.boolean().default(true)
});

export const EncodeStepSchema = z.object({
  kind: z.literal('encode'),
  method: z.enum(['one_hot', 'ordinal'])
});

export const NormalizeTextStepSchema = z.object({
  kind: z.literal('normalize'),
  lowercase: z.boolean().default(true),
  stripPunctuation: z.boolean().default(true)
});

export const TokenizeStepSchema = z.object({
  kind: z.literal('tokenize'),
  /** `whitespace` splits on runs of spaces; `word` keeps runs of 2+ letters/digits (sklearn's token_pattern). */
  pattern: z.enum(['whitespace', 'word']).default('word')
});

export const VocabularyStepSchema = z.object({
  kind: z.literal('vocabulary'),
  /** Minimum number of training documents a token must occur in (sklearn's integer min_df). */
  minFrequency: z.number().int().min(1).default(1),
  /** Keep at most this many tokens, the most frequent over the training corpus (sklearn's max_features). */
  maxSize: z.number().int().min(1).optional()
});

export const VectorizeStepSchema = z.discriminatedUnion('method', [
  z.object({
    kind: z.literal('vectorize'),
    method: z.literal('bag_of_words'),
    binary: z.boolean().default(false)
  }),
  z.object({ kind: z.literal('vectorize'), method: z.literal('tfidf') }),
  z.object({
    kind: z.literal('vectorize'),
    method: z.literal('token_ids'),
    maxLength: z.number().int().min(1)
  })
]);

export const NumericStepSchema = z.union([
  ImputeStepSchema,
  ScaleStepSchema,
  Log1pStepSchema,
  PowerStepSchema
]);
export const CategoricalStepSchema = z.union([ImputeStepSchema, EncodeStepSchema]);
export const TextStepSchema = z.union([
  NormalizeTextStepSchema,
  TokenizeStepSchema,
  VocabularyStepSchema,
  VectorizeStepSchema
]);

export const PrepStepSchema = z.union([
  ImputeStepSchema,
  ScaleStepSchema,
  Log1pStepSchema,
  PowerStepSchema,
  EncodeStepSchema,
  NormalizeTextStepSchema,
  TokenizeStepSchema,
  VocabularyStepSchema,
  VectorizeStepSchema
]);

const NumericGroupSchema = z.object({
  kind: z.literal('numeric'),
  columns: z.array(columnName).min(1),
  steps: z.array(NumericStepSchema)
});

const CategoricalGroupSchema = z
  .object({
    kind: z.literal('categorical'),
    columns: z.array(columnName).min(1),
    steps: z.array(CategoricalStepSchema)
  })
  .refine((g) => g.steps.filter((s) => s.kind === 'encode').length === 1, {
    message: 'A categorical group needs exactly one encode step.'
  })
  .refine((g) => g.steps.at(-1)?.kind === 'encode', { message: 'Encoding must be the last step.' })
  .refine((g) => g.steps.filter((s) => s.kind === 'impute').length <= 1, {
    message: 'A categorical group takes at most one impute step.'
  })
  .refine(
    (g) =>
      g.steps.every(
        (s) => s.kind !== 'impute' || s.strategy === 'most_frequent' || s.strategy === 'constant'
      ),
    { message: 'Categorical columns can only be imputed with most_frequent or constant.' }
  );

const TEXT_ORDER = ['normalize', 'tokenize', 'vocabulary', 'vectorize'] as const;

const TextGroupSchema = z
  .object({
    kind: z.literal('text'),
    columns: z.array(columnName).min(1),
    steps: z.array(TextStepSchema)
  })
  .refine(
    (g) => {
      const kinds = g.steps.map((s) => s.kind);
      const order = kinds.map((k) => TEXT_ORDER.indexOf(k));
      const increasing = order.every((o, i) => i === 0 || o > (order[i - 1] ?? -1));
      return increasing && ['tokenize', 'vocabulary', 'vectorize'].every((k) => kinds.includes(k as never));
    },
    { message: 'Text steps run as [normalize], tokenize, vocabulary, vectorize, each at most once.' }
  );

export const PrepGroupSchema = z.discriminatedUnion('kind', [
  NumericGroupSchema,
  CategoricalGroupSchema,
  TextGroupSchema
]);

export const PrepPipelineSchema = z.object({ groups: z.array(PrepGroupSchema).min(1) }).refine(
  (p) => {
    const names = p.groups.flatMap((g) => g.columns);
    return new Set(names).size === names.length;
  },
  { message: 'A column can belong to one group only.' }
);

export type ImputeStep = z.infer<typeof ImputeStepSchema>;
export type ScaleStep = z.infer<typeof ScaleStepSchema>;
export type PowerStep = z.infer<typeof PowerStepSchema>;
export type EncodeStep = z.infer<typeof EncodeStepSchema>;
export type NormalizeTextStep = z.infer<typeof NormalizeTextStepSchema>;
export type TokenizeStep = z.infer<typeof TokenizeStepSchema>;
export type VocabularyStep = z.infer<typeof VocabularyStepSchema>;
export type VectorizeStep = z.infer<typeof VectorizeStepSchema>;
export type NumericStep = z.infer<typeof NumericStepSchema>;
export type CategoricalStep = z.infer<typeof CategoricalStepSchema>;
export type TextStep = z.infer<typeof TextStepSchema>;
export type PrepStep = z.infer<typeof PrepStepSchema>;
export type PrepGroup = z.infer<typeof PrepGroupSchema>;
export type PrepPipeline = z.infer<typeof PrepPipelineSchema>;
/** What a caller writes: defaults may be left out. */
export type PrepPipelineInput = z.input<typeof PrepPipelineSchema>;
