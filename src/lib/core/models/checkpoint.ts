/**
 * A training checkpoint as one binary blob (see `tensor-bundle.ts`): the weights, the optimizer's
 * moments, the best weights so far and the loop's counters, tied to the run spec by its hash so a
 * checkpoint is never resumed into a different spec.
 */
import { z } from 'zod';
import { LatheError } from '../errors';
import { metricPoint } from '../records';
import { decodeBundle, encodeBundle } from './tensor-bundle';
import type { TrainingCheckpoint } from './trainer';

const checkpointMeta = z.object({
  kind: z.literal('checkpoint'),
  specHash: z.string(),
  epoch: z.number().int().nonnegative(),
  optimizerStep: z.number().int().nonnegative(),
  best: z.object({ epoch: z.number().int(), value: z.number(), hasParams: z.boolean() }).nullable(),
  wait: z.number().int().nonnegative(),
  batchSize: z.number().int().positive(),
  series: z.record(z.string(), z.array(metricPoint))
});

export function encodeCheckpoint(checkpoint: TrainingCheckpoint, specHash: string): ArrayBuffer {
  const tensors = new Map<string, Float32Array>();
  for (const [name, values] of checkpoint.params) tensors.set(`param:${name}`, values);
  for (const [name, values] of checkpoint.optimizer.slots) tensors.set(`slot:${name}`, values);
  for (const [name, values] of checkpoint.best?.params ?? []) tensors.set(`best:${name}`, values);
  const meta: z.infer<typeof checkpointMeta> = {
    kind: 'checkpoint',
    specHash,
    epoch: checkpoint.epoch,
    optimizerStep: checkpoint.optimizer.step,
    best: checkpoint.best
      ? {
          epoch: checkpoint.best.epoch,
          value: checkpoint.best.value,
          hasParams: checkpoint.best.params !== null
        }
      : null,
    wait: checkpoint.wait,
    batchSize: checkpoint.batchSize,
    series: checkpoint.series
  };
  return encodeBundle(meta, tensors);
}

export function decodeCheckpoint(buffer: ArrayBuffer, specHash: string): TrainingCheckpoint {
  const { meta, tensors } = decodeBundle(buffer);
  const parsed = checkpointMeta.safeParse(meta);
  if (!parsed.success) throw new LatheError('checkpoint_invalid', 'The stored checkpoint is damaged.');
  if (parsed.data.specHash !== specHash) {
    throw new LatheError(
      'checkpoint_mismatch',
      "The stored checkpoint belongs to different run settings, so the run can't resume from it."
    );
  }
  const group = (prefix: string) =>
    new Map(
      [...tensors]
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, values]) => [name.slice(prefix.length), values])
    );
  const m = parsed.data;
  return {
    epoch: m.epoch,
    params: group('param:'),
    optimizer: { step: m.optimizerStep, slots: group('slot:') },
    best: m.best
      ? { epoch: m.best.epoch, value: m.best.value, params: m.best.hasParams ? group('best:') : null }
      : null,
    wait: m.wait,
    batchSize: m.batchSize,
    series: m.series
  };
}
