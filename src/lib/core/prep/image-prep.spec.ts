import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LatheError } from '../errors';
import { seededRandom } from '../pipeline/split';
import { rgbPng, toArrayBuffer, writePng } from './fixtures/png-writer';
import {
  augmentBatch,
  augmentSeed,
  decodeImages,
  fitImagePrep,
  normalizeImages,
  parseFittedImagePrep,
  prepareImageInputs,
  transformImageInputs,
  type FittedImagePrep,
  type ImageAugment
} from './image-prep';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

// Every test must hand back every tensor it did not return to the caller.
let tensorsBefore = 0;
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

async function codeOfAsync(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    const value = await promise;
    if (value instanceof tf.Tensor) value.dispose();
  } catch (err) {
    if (err instanceof LatheError) return { code: err.code, message: err.message };
    throw err;
  }
  return { message: 'no error' };
}

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    const value = await fn();
    if (value instanceof tf.Tensor) value.dispose();
  } catch (err) {
    if (err instanceof LatheError) return err.code;
    throw err;
  }
  return undefined;
}

/** Reads a tensor's values and disposes it. */
function take(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

const PNG = 'image/png';
const rgb = (w: number, h: number, f: (x: number, y: number) => [number, number, number]): number[] =>
  Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w))).flat();

describe('decodeImages', () => {
  it('keeps exact pixels when the image already has the asked size', async () => {
    const values = rgb(5, 4, (x, y) => [x * 50, y * 60, 7]);
    const x = await decodeImages([toArrayBuffer(rgbPng(5, 4, values))], [PNG], {
      width: 5,
      height: 4,
      channels: 3
    });
    expect(x.shape).toEqual([1, 4, 5, 3]);
    expect(x.dtype).toBe('float32');
    expect(Array.from(take(x))).toEqual(values);
  });

  it('downscales by whole factors as block averages', async () => {
    // 8×4 → 4×2: each output pixel is the mean of a 2×2 block.
    const values = rgb(8, 4, (x, y) => [x * 10 + y, 100, 255 - x * y]);
    const x = take(
      await decodeImages([toArrayBuffer(rgbPng(8, 4, values))], [PNG], { width: 4, height: 2, channels: 3 })
    );
    for (let oy = 0; oy < 2; oy++) {
      for (let ox = 0; ox < 4; ox++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (const [dy, dx] of [
            [0, 0],
            [0, 1],
            [1, 0],
            [1, 1]
          ] as const) {
            sum += values[((2 * oy + dy) * 8 + 2 * ox + dx) * 3 + c] ?? NaN;
          }
          expect(x[(oy * 4 + ox) * 3 + c]).toBeCloseTo(sum / 4, 4);
        }
      }
    }
  });

  it('drops the rows a whole-block average leaves over evenly from both edges', async () => {
    // 11 rows → 3: blocks of 3 over the middle 9 rows (rows 1–9), so rows 0 and 10 are dropped.
    const values = rgb(1, 11, (_, y) => [y * 10, y * 10, y * 10]);
    const x = take(
      await decodeImages([toArrayBuffer(rgbPng(1, 11, values))], [PNG], { width: 1, height: 3, channels: 1 })
    );
    [20, 50, 80].forEach((v, i) => expect(x[i]).toBeCloseTo(v, 4));
  });

  it('stretches without keeping the aspect ratio, bilinearly with half-pixel centres', async () => {
    // A horizontal ramp 0, 100, 200 stretched to 6 wide and 2 high: rows equal, values interpolated.
    const values = rgb(3, 1, (x) => [x * 100, x * 100, x * 100]);
    const x = take(
      await decodeImages([toArrayBuffer(rgbPng(3, 1, values))], [PNG], { width: 6, height: 2, channels: 1 })
    );
    // Half-pixel centres: output column j samples input position (j + 0.5) / 2 − 0.5, clamped.
    const expected = [0, 25, 75, 125, 175, 200];
    expected.forEach((v, j) => {
      expect(x[j]).toBeCloseTo(v, 3);
      expect(x[6 + j]).toBeCloseTo(v, 3);
    });
  });

  it('averages then interpolates for large non-integer downscales, keeping a flat image flat', async () => {
    const values = rgb(50, 30, () => [120, 30, 200]);
    const x = take(
      await decodeImages([toArrayBuffer(rgbPng(50, 30, values))], [PNG], { width: 7, height: 4, channels: 3 })
    );
    expect(x.length).toBe(7 * 4 * 3);
    x.forEach((v, i) => expect(v).toBeCloseTo([120, 30, 200][i % 3] ?? NaN, 3));
  });

  it('converts RGB to gray with BT.601 luminance, and repeats gray for RGB', async () => {
    const colours: Array<[number, number, number]> = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [10, 200, 90]
    ];
    const png = toArrayBuffer(rgbPng(4, 1, colours.flat()));
    const gray = take(await decodeImages([png], [PNG], { width: 4, height: 1, channels: 1 }));
    colours.forEach(([r, g, b], i) => expect(gray[i]).toBeCloseTo(0.299 * r + 0.587 * g + 0.114 * b, 3));

    const grayPng = toArrayBuffer(
      writePng({ width: 2, height: 1, colorType: 0, depth: 8, samples: [9, 250] })
    );
    const asRgb = take(await decodeImages([grayPng], [PNG], { width: 2, height: 1, channels: 3 }));
    expect(Array.from(asRgb)).toEqual([9, 9, 9, 250, 250, 250]);
  });

  it('composites transparency over black', async () => {
    const rgba = toArrayBuffer(
      writePng({
        width: 3,
        height: 1,
        colorType: 6,
        depth: 8,
        samples: [200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 52, 127]
      })
    );
    const x = take(await decodeImages([rgba], [PNG], { width: 3, height: 1, channels: 3 }));
    const expected = [200, 100, 50, 0, 0, 0, 200 * (127 / 255), 100 * (127 / 255), 52 * (127 / 255)];
    expected.forEach((v, i) => expect(x[i]).toBeCloseTo(v, 3));
  });

  it('stacks images of different sizes and kinds in order', async () => {
    const a = toArrayBuffer(
      rgbPng(
        2,
        2,
        rgb(2, 2, () => [10, 10, 10])
      )
    );
    const b = toArrayBuffer(
      rgbPng(
        4,
        4,
        rgb(4, 4, () => [90, 90, 90])
      )
    );
    const c = toArrayBuffer(writePng({ width: 1, height: 1, colorType: 0, depth: 8, samples: [200] }));
    const x = await decodeImages([a, b, c], [PNG, PNG, PNG], { width: 2, height: 2, channels: 1 });
    expect(x.shape).toEqual([3, 2, 2, 1]);
    const values = take(x);
    expect(Array.from(values.subarray(0, 4))).toEqual([10, 10, 10, 10]);
    values.subarray(4, 8).forEach((v) => expect(v).toBeCloseTo(90, 3));
    expect(Array.from(values.subarray(8))).toEqual([200, 200, 200, 200]);
  });

  it('returns an empty batch for no images', async () => {
    const x = await decodeImages([], [], { width: 4, height: 3, channels: 3 });
    expect(x.shape).toEqual([0, 3, 4, 3]);
    x.dispose();
  });

  it('names the damaged image in the error', async () => {
    const good = toArrayBuffer(
      rgbPng(
        2,
        2,
        rgb(2, 2, () => [1, 2, 3])
      )
    );
    const bytes = rgbPng(
      2,
      2,
      rgb(2, 2, () => [1, 2, 3])
    );
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
    const result = await codeOfAsync(
      decodeImages([good, toArrayBuffer(bytes)], [PNG, PNG], { width: 2, height: 2, channels: 3 }, [
        'cats/1.png',
        'cats/2.png'
      ])
    );
    expect(result.code).toBe('image_decode_failed');
    expect(result.message).toContain('cats/2.png');
    // Without names, the position.
    const unnamed = await codeOfAsync(
      decodeImages([toArrayBuffer(bytes)], [PNG], { width: 2, height: 2, channels: 3 })
    );
    expect(unnamed.message).toContain('image 1');
  });

  it('refuses other formats outside a browser, naming them, and non-images as failures', async () => {
    const jpeg = toArrayBuffer(
      Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1])
    );
    const spec = { width: 2, height: 2, channels: 3 } as const;
    const result = await codeOfAsync(decodeImages([jpeg], ['image/jpeg'], spec, ['dogs/7.jpg']));
    expect(result.code).toBe('image_decode_unsupported');
    expect(result.message).toMatch(/dogs\/7\.jpg.*JPEG/);

    const text = toArrayBuffer(new TextEncoder().encode('not an image at all'));
    expect((await codeOfAsync(decodeImages([text], ['text/plain'], spec))).code).toBe('image_decode_failed');
    // A PNG by its MIME type whose bytes are not: damaged, not unsupported.
    expect((await codeOfAsync(decodeImages([text], [PNG], spec))).code).toBe('image_decode_failed');
    expect((await codeOfAsync(decodeImages([text], [], spec))).code).toBe('image_input_invalid');
  });
});

/** A batch [n, h, w, c] of pixel values 0–255 from a seed. */
function randomPixels(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  const random = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(
    Float32Array.from({ length: size }, () => Math.floor(random() * 256)),
    shape
  );
}

describe('fitImagePrep and normalizeImages', () => {
  it('fits per-channel mean and population std of the [0, 1]-scaled training pixels', async () => {
    const pixels = randomPixels([5, 4, 3, 3], 1);
    const values = pixels.dataSync();
    const fitted = await fitImagePrep(pixels, { width: 3, height: 4, channels: 3 });
    for (let c = 0; c < 3; c++) {
      const channel = Array.from(values)
        .filter((_, i) => i % 3 === c)
        .map((v) => v / 255);
      const mean = channel.reduce((a, b) => a + b, 0) / channel.length;
      const std = Math.sqrt(channel.reduce((a, b) => a + (b - mean) ** 2, 0) / channel.length);
      expect(fitted.mean[c]).toBeCloseTo(mean, 6);
      expect(fitted.std[c]).toBeCloseTo(std, 6);
    }
    expect(fitted).toMatchObject({
      version: 1,
      width: 3,
      height: 4,
      channels: 3,
      trainImages: 5,
      warnings: []
    });

    const x = normalizeImages(fitted, pixels);
    expect(x.dtype).toBe('float32');
    const normalized = take(x);
    values.forEach((v, i) => {
      const c = i % 3;
      expect(normalized[i]).toBeCloseTo((v / 255 - (fitted.mean[c] ?? NaN)) / (fitted.std[c] ?? NaN), 5);
    });
    // Standardized training pixels: mean 0 and std 1 per channel.
    const moments = tf.tidy(() => {
      const again = normalizeImages(fitted, pixels);
      const m = tf.moments(again, [0, 1, 2]);
      return [m.mean.arraySync() as number[], tf.sqrt(m.variance).arraySync() as number[]];
    });
    moments[0]?.forEach((m) => expect(m).toBeCloseTo(0, 5));
    moments[1]?.forEach((s) => expect(s).toBeCloseTo(1, 5));
    pixels.dispose();
  });

  it('leaves a constant channel at std 1, with a warning', async () => {
    const pixels = tf.tidy(() =>
      tf.concat([randomPixels([3, 2, 2, 1], 4), tf.fill([3, 2, 2, 1], 77), randomPixels([3, 2, 2, 1], 5)], 3)
    ) as tf.Tensor4D;
    const fitted = await fitImagePrep(pixels, { width: 2, height: 2, channels: 3 });
    expect(fitted.std[1]).toBe(1);
    expect(fitted.mean[1]).toBeCloseTo(77 / 255, 6);
    expect(fitted.warnings).toHaveLength(1);
    expect(fitted.warnings[0]).toMatch(/green/);
    const normalized = take(normalizeImages(fitted, pixels));
    normalized.filter((_, i) => i % 3 === 1).forEach((v) => expect(v).toBeCloseTo(0, 6));
    pixels.dispose();
  });

  it('refuses a batch of the wrong shape and an empty training set', async () => {
    const pixels = randomPixels([2, 4, 4, 3], 2);
    expect(await codeOf(() => fitImagePrep(pixels, { width: 4, height: 4, channels: 1 }))).toBe(
      'image_shape_mismatch'
    );
    const fitted = await fitImagePrep(pixels, { width: 4, height: 4, channels: 3 });
    expect(await codeOf(() => normalizeImages({ ...fitted, width: 5 }, pixels))).toBe('image_shape_mismatch');
    const empty = tf.zeros([0, 4, 4, 3]) as tf.Tensor4D;
    expect(await codeOf(() => fitImagePrep(empty, { width: 4, height: 4, channels: 3 }))).toBe(
      'prep_no_rows'
    );
    tf.dispose([pixels, empty]);
  });

  it('round-trips through JSON and rejects damaged state', async () => {
    const pixels = randomPixels([2, 4, 4, 1], 3);
    const fitted = await fitImagePrep(pixels, { width: 4, height: 4, channels: 1 });
    pixels.dispose();
    expect(parseFittedImagePrep(JSON.parse(JSON.stringify(fitted)))).toEqual(fitted);
    const broken = (patch: Partial<FittedImagePrep>): Promise<string | undefined> =>
      codeOf(() => parseFittedImagePrep({ ...fitted, ...patch }));
    expect(await broken({ std: [0] })).toBe('prep_fitted_invalid');
    expect(await broken({ mean: [0.1, 0.2] })).toBe('prep_fitted_invalid');
    expect(await codeOf(() => parseFittedImagePrep({ ...fitted, version: 2 }))).toBe('prep_fitted_invalid');
  });
});

describe('augmentBatch', () => {
  const off: ImageAugment = { flipHorizontal: false, cropPadding: 0, brightness: 0 };
  const shape: [number, number, number, number] = [16, 5, 6, 3];

  /** The value at image i, row y, column x, channel c of a [n, h, w, c] array. */
  const at = (v: ArrayLike<number>, i: number, y: number, x: number, c: number): number =>
    v[((i * shape[1] + y) * shape[2] + x) * shape[3] + c] ?? NaN;

  it('returns an equal copy when every augmentation is off', async () => {
    const batch = randomPixels(shape, 1);
    const out = augmentBatch(batch, off, 42);
    expect(out).not.toBe(batch);
    const expected = Array.from(batch.dataSync());
    batch.dispose();
    expect(Array.from(take(out))).toEqual(expected);
  });

  it('gives the same output for the same seed, bit for bit, and another for another seed', async () => {
    const batch = randomPixels(shape, 2);
    const all: ImageAugment = { flipHorizontal: true, cropPadding: 2, brightness: 0.2 };
    const a = take(augmentBatch(batch, all, 7, { std: [0.2, 0.25, 0.3] }));
    const b = take(augmentBatch(batch, all, 7, { std: [0.2, 0.25, 0.3] }));
    const c = take(augmentBatch(batch, all, 8, { std: [0.2, 0.25, 0.3] }));
    batch.dispose();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it('flips some images left to right and leaves the others as they were', async () => {
    const batch = randomPixels(shape, 3);
    const input = batch.dataSync();
    const out = take(augmentBatch(batch, { ...off, flipHorizontal: true }, 11));
    batch.dispose();
    let flipped = 0;
    for (let i = 0; i < shape[0]; i++) {
      let same = true;
      let mirrored = true;
      for (let y = 0; y < shape[1]; y++) {
        for (let x = 0; x < shape[2]; x++) {
          for (let c = 0; c < shape[3]; c++) {
            const v = at(out, i, y, x, c);
            same &&= v === at(input, i, y, x, c);
            mirrored &&= v === at(input, i, y, shape[2] - 1 - x, c);
          }
        }
      }
      expect(same || mirrored).toBe(true);
      if (mirrored && !same) flipped++;
    }
    expect(flipped).toBeGreaterThan(0);
    expect(flipped).toBeLessThan(shape[0]);
  });

  it.each([
    { pad: 2, flip: false },
    { pad: 4, flip: true },
    { pad: 1, flip: true }
  ])(
    'crops each image exactly at its own offset within the zero padding (pad $pad, flip $flip)',
    ({ pad, flip }) => {
      const batch = randomPixels(shape, 4 + pad);
      const input = batch.dataSync();
      const out = take(augmentBatch(batch, { ...off, cropPadding: pad, flipHorizontal: flip }, 5));
      batch.dispose();
      const seen = new Set<string>();
      for (let i = 0; i < shape[0]; i++) {
        // Find the shift (dy, dx) in [−pad, pad]², and mirroring, that explain the output image.
        const matches: string[] = [];
        for (const mirrored of flip ? [false, true] : [false]) {
          for (let dy = -pad; dy <= pad; dy++) {
            for (let dx = -pad; dx <= pad; dx++) {
              let ok = true;
              for (let y = 0; y < shape[1] && ok; y++) {
                for (let x = 0; x < shape[2] && ok; x++) {
                  for (let c = 0; c < shape[3] && ok; c++) {
                    const sy = y + dy;
                    const px = x + dx;
                    const sx = mirrored ? shape[2] - 1 - px : px;
                    const inside = sy >= 0 && sy < shape[1] && px >= 0 && px < shape[2];
                    ok = at(out, i, y, x, c) === (inside ? at(input, i, sy, sx, c) : 0);
                  }
                }
              }
              if (ok) matches.push(`${dy},${dx},${mirrored}`);
            }
          }
        }
        expect(matches).toHaveLength(1);
        seen.add(matches[0] ?? '');
      }
      expect(seen.size).toBeGreaterThan(3);
      if (flip) {
        expect([...seen].some((m) => m.endsWith('true'))).toBe(true);
        expect([...seen].some((m) => m.endsWith('false'))).toBe(true);
      }
    }
  );

  it('handles an empty batch and one-pixel images', async () => {
    const empty = tf.zeros([0, 4, 4, 3]) as tf.Tensor4D;
    const all: ImageAugment = { flipHorizontal: true, cropPadding: 2, brightness: 0.2 };
    const none = augmentBatch(empty, all, 1);
    expect(none.shape).toEqual([0, 4, 4, 3]);
    const dot = tf.tensor4d([5, 6, 7, 8], [4, 1, 1, 1]);
    const values = take(augmentBatch(dot, { ...all, brightness: 0 }, 3));
    // Each output is the pixel itself or padding.
    values.forEach((v, i) => expect([0, [5, 6, 7, 8][i]]).toContain(v));
    tf.dispose([empty, none, dot]);
  });

  it('shifts brightness by one draw per image, divided by each channel std', async () => {
    const batch = randomPixels(shape, 6);
    const input = batch.dataSync();
    const std = [0.1, 0.2, 0.4];
    const out = take(augmentBatch(batch, { ...off, brightness: 0.3 }, 9, { std }));
    batch.dispose();
    const deltas: number[] = [];
    for (let i = 0; i < shape[0]; i++) {
      const delta = (at(out, i, 0, 0, 0) - at(input, i, 0, 0, 0)) * (std[0] ?? NaN);
      expect(Math.abs(delta)).toBeLessThanOrEqual(0.3 + 1e-5);
      deltas.push(delta);
      for (let y = 0; y < shape[1]; y++) {
        for (let x = 0; x < shape[2]; x++) {
          for (let c = 0; c < shape[3]; c++) {
            expect(at(out, i, y, x, c) - at(input, i, y, x, c)).toBeCloseTo(delta / (std[c] ?? NaN), 3);
          }
        }
      }
    }
    expect(new Set(deltas.map((d) => d.toFixed(4))).size).toBe(shape[0]);
  });

  it('draws the flips the same way whether or not other augmentations are on', async () => {
    const batch = randomPixels([8, 3, 4, 1], 7);
    const flipOnly = take(augmentBatch(batch, { ...off, flipHorizontal: true }, 3));
    const withBrightness = take(augmentBatch(batch, { ...off, flipHorizontal: true, brightness: 0.1 }, 3));
    batch.dispose();
    // Brightness adds one constant per image, so the differences are constant within each image.
    for (let i = 0; i < 8; i++) {
      const diffs = Array.from(
        { length: 12 },
        (_, k) => (withBrightness[i * 12 + k] ?? NaN) - (flipOnly[i * 12 + k] ?? NaN)
      );
      diffs.forEach((d) => expect(d).toBeCloseTo(diffs[0] ?? NaN, 4));
    }
  });

  it('mixes epoch and batch into distinct seeds', async () => {
    const seeds = new Set<number>();
    for (let epoch = 0; epoch < 20; epoch++)
      for (let b = 0; b < 20; b++) seeds.add(augmentSeed(42, epoch, b));
    expect(seeds.size).toBe(400);
    expect(augmentSeed(42, 1, 2)).toBe(augmentSeed(42, 1, 2));
  });
});

describe('prepareImageInputs and transformImageInputs', () => {
  it('give identical tensors for the same images, so predictions see what evaluation saw', async () => {
    const random = seededRandom(21);
    const images = Array.from({ length: 4 }, (_, k) =>
      toArrayBuffer(
        rgbPng(
          6 + k,
          5,
          Array.from({ length: (6 + k) * 5 * 3 }, () => Math.floor(random() * 256)),
          [k % 5]
        )
      )
    );
    const mimes = images.map(() => PNG);
    const spec = { width: 4, height: 4, channels: 3 } as const;
    const { fitted, x } = await prepareImageInputs(images, mimes, spec);
    const stored = parseFittedImagePrep(JSON.parse(JSON.stringify(fitted)));
    const again = await transformImageInputs(stored, images, mimes);
    expect(again.shape).toEqual([4, 4, 4, 3]);
    const a = take(x);
    const b = take(again);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);

    // Fitted on the first two images only, the last two are transformed with those statistics.
    const partial = await prepareImageInputs(images.slice(0, 2), mimes.slice(0, 2), spec);
    partial.x.dispose();
    expect(partial.fitted.trainImages).toBe(2);
    expect(partial.fitted.mean).not.toEqual(fitted.mean);
    const held = take(await transformImageInputs(partial.fitted, images.slice(2), mimes.slice(2)));
    const raw = take(await decodeImages(images.slice(2), mimes.slice(2), spec));
    held.forEach((v, i) => {
      const c = i % 3;
      expect(v).toBeCloseTo(
        ((raw[i] ?? NaN) / 255 - (partial.fitted.mean[c] ?? NaN)) / (partial.fitted.std[c] ?? NaN),
        5
      );
    });
  });
});
