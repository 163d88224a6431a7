/**
 * Kernels of our own that a backend may register to do in one call what would otherwise take a dozen
 * tfjs ops. Callers check `tf.getKernel(name, tf.getBackend())` and fall back to the ops otherwise, so a
 * backend without them gives the same results, only slower.
 */

/**
 * One Adam/AdamW step for one parameter (torch.optim's rule): inputs `w`, `g`, `m`, `v`; outputs the new
 * `w`, `m` and `v`. `decay` multiplies `w` first (AdamW's decoupled weight decay; 1 for Adam).
 */
export const FUSED_ADAM_STEP = 'LatheAdamStep';

export interface FusedAdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1-based step count, for the bias corrections. */
  step: number;
  decay: number;
}
