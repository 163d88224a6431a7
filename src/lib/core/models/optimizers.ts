/**
 * SGD, momentum, Adam and AdamW written with tfjs-core ops, their learning-rate schedules and global-norm
 * gradient clipping. Our own rather than tfjs's optimizers because the learning rate changes per epoch,
 * AdamW's decoupled weight decay is not in tfjs, and a checkpoint must save and restore the state
 * (moments, step count) by parameter name.
 *
 * Update rules follow PyTorch's `torch.optim` (SGD with `momentum`/`nesterov`, Adam, AdamW), so runs
 * can be compared with a PyTorch baseline.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_ADAM_STEP, type FusedAdamAttrs } from '../backend/fused-kernels';
import type { OptimizerSpec, ScheduleSpec } from './model-spec';
import type { Param } from './network';

export interface OptimizerState {
  /** Steps taken (Adam's bias correction needs it). */
  step: number;
  /** Slot values by `<param name>/<slot>`. */
  slots: Map<string, Float32Array>;
}

export interface Optimizer {
  /** Applies one update with `learningRate`; `grads` are by parameter name. Disposes nothing it was given. */
  apply(params: Param[], grads: Record<string, tf.Tensor>, learningRate: number): void;
  state(): Promise<OptimizerState>;
  restore(state: OptimizerState): void;
  dispose(): void;
}

export function createOptimizer(spec: OptimizerSpec): Optimizer {
  let step = 0;
  const slots = new Map<string, tf.Variable>();
  /** Restored slot values, made into variables of their parameter's shape on first use. */
  let restored = new Map<string, Float32Array>();
  const slot = (param: Param, name: string): tf.Variable => {
    const key = `${param.name}/${name}`;
    let v = slots.get(key);
    if (!v) {
      const values = restored.get(key);
      const initial = values
        ? tf.tensor(values, param.variable.shape, 'float32')
        : tf.zerosLike(param.variable);
      v = tf.variable(initial, false);
      initial.dispose();
      slots.set(key, v);
    }
    return v;
  };

  return {
    apply(params, grads, learningRate) {
      step += 1;
      // One kernel per parameter instead of about fifteen ops, where the backend has it (wasm).
      const fusedAdam = tf.getKernel(FUSED_ADAM_STEP, tf.getBackend()) !== undefined;
      tf.tidy(() => {
        for (const param of params) {
          const g = grads[param.name];
          if (!param.trainable || !g) continue;
          const w = param.variable;
          switch (spec.kind) {
            case 'sgd':
              w.assign(tf.sub(w, tf.mul(g, learningRate)));
              break;
            case 'momentum': {
              // PyTorch: v ← μ·v + g; w ← w − lr·v (Nesterov: w ← w − lr·(g + μ·v)).
              const velocity = slot(param, 'velocity');
              const v = tf.add(tf.mul(velocity, spec.momentum), g);
              velocity.assign(v);
              const direction = spec.nesterov ? tf.add(g, tf.mul(v, spec.momentum)) : v;
              w.assign(tf.sub(w, tf.mul(direction, learningRate)));
              break;
            }
            case 'adam':
            case 'adamw': {
              const decays = spec.kind === 'adamw' && param.decays && spec.weightDecay > 0;
              const m = slot(param, 'm');
              const v = slot(param, 'v');
              if (fusedAdam) {
                const attrs: FusedAdamAttrs = {
                  learningRate,
                  beta1: spec.beta1,
                  beta2: spec.beta2,
                  epsilon: spec.epsilon,
                  step,
                  decay: decays ? 1 - learningRate * spec.weightDecay : 1
                };
                const [wNext, mNext, vNext] = tf
                  .engine()
                  .runKernel(
                    FUSED_ADAM_STEP,
                    { w, g, m, v },
                    attrs as unknown as tf.NamedAttrMap
                  ) as tf.Tensor[];
                w.assign(wNext as tf.Tensor);
                m.assign(mNext as tf.Tensor);
                v.assign(vNext as tf.Tensor);
                break;
              }
              if (decays) {
                // Decoupled decay, before the Adam step, as torch.optim.AdamW does.
                w.assign(tf.mul(w, 1 - learningRate * spec.weightDecay));
              }
              const mNext = tf.add(tf.mul(m, spec.beta1), tf.mul(g, 1 - spec.beta1));
              const vNext = tf.add(tf.mul(v, spec.beta2), tf.mul(tf.square(g), 1 - spec.beta2));
              m.assign(mNext);
              v.assign(vNext);
              const mHat = tf.div(mNext, 1 - spec.beta1 ** step);
              const vHat = tf.div(vNext, 1 - spec.beta2 ** step);
              w.assign(tf.sub(w, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), spec.epsilon)), learningRate)));
              break;
            }
          }
        }
      });
    },
    async state() {
      const entries = [...slots.entries()];
      const values = await Promise.all(entries.map(([, v]) => v.data()));
      const out = new Map(restored);
      entries.forEach(([key], i) => out.set(key, Float32Array.from(values[i] as Float32Array)));
      return { step, slots: out };
    },
    restore(state) {
      step = state.step;
      tf.dispose([...slots.values()]);
      slots.clear();
      restored = new Map(state.slots);
    },
    dispose() {
      tf.dispose([...slots.values()]);
      slots.clear();
      restored.clear();
    }
  };
}

/** The learning rate of 0-based `epoch` out of `epochs`. */
export function learningRateAt(base: number, schedule: ScheduleSpec, epoch: number, epochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.factor ** Math.floor(epoch / schedule.everyEpochs);
    case 'exponential':
      return base * schedule.decayPerEpoch ** epoch;
    case 'cosine': {
      const warmup = schedule.warmupEpochs;
      if (epoch < warmup) return (base * (epoch + 1)) / (warmup + 1);
      const span = Math.max(1, epochs - warmup - 1);
      const progress = Math.min(1, (epoch - warmup) / span);
      const floor = base * schedule.minFactor;
      return floor + ((base - floor) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}

/**
 * Rescales `grads` so their global L2 norm is at most `maxNorm` (PyTorch's clip_grad_norm_, which also
 * adds 1e-6 to the norm). Returns new tensors; the norm stays on the device (no read per batch).
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number
): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n] as tf.Tensor)))));
    const factor = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    const out: Record<string, tf.Tensor> = {};
    for (const n of names) out[n] = tf.mul(grads[n] as tf.Tensor, factor);
    return out;
  });
}
