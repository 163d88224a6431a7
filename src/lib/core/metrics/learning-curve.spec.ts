import { describe, expect, it } from 'vitest';
import { overfitWarning } from './learning-curve';

describe('overfit warning', () => {
  it('warns when validation loss rises for 3 epochs after its minimum while training loss falls', () => {
    // minimum .7 at epoch 3, then .75, .8, .9 (3 epochs above it); train .6 → .3
    const message = overfitWarning({
      train: [1, 0.8, 0.6, 0.5, 0.4, 0.3],
      validation: [1, 0.8, 0.7, 0.75, 0.8, 0.9]
    });
    expect(message).toContain('risen for 3 epochs since its minimum at epoch 3');
  });

  it('stays quiet after only 2 rising epochs with a small gap', () => {
    // gap at the end (.8 − .68) / .68 ≈ 18 % < 50 %
    expect(
      overfitWarning({ train: [1, 0.85, 0.72, 0.7, 0.68], validation: [1, 0.8, 0.7, 0.75, 0.8] })
    ).toBeNull();
  });

  it('stays quiet when both losses rise together (not overfitting, just a bad learning rate)', () => {
    // val rises 3 epochs, but train rises too; final gap (.8 − .65) / .65 ≈ 23 %
    expect(
      overfitWarning({ train: [1, 0.5, 0.55, 0.6, 0.65], validation: [1, 0.5, 0.6, 0.7, 0.8] })
    ).toBeNull();
  });

  it('warns when the final gap exceeds the threshold', () => {
    // (0.2 − 0.1) / 0.1 = 100 % > 50 %
    expect(overfitWarning({ train: [0.5, 0.2, 0.1], validation: [0.5, 0.3, 0.2] })).toContain('100 % above');
    expect(
      overfitWarning({ train: [0.5, 0.2, 0.1], validation: [0.5, 0.3, 0.2] }, { gapThreshold: 1.5 })
    ).toBeNull();
  });

  it('ignores empty and NaN series', () => {
    expect(overfitWarning({ train: [], validation: [] })).toBeNull();
    expect(overfitWarning({ train: [1, NaN], validation: [1, NaN] })).toBeNull();
  });
});
