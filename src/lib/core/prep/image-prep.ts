/**
 * Image preprocessing for convolutional networks, as tensor operations on the active tfjs backend:
 * decode → [n, height, width, channels] pixels (0–255) → scale to [0, 1] and standardize per channel
 * with statistics fitted on the training images only → optional seeded augmentation of training batches.
 *
 * The fitted state is plain JSON (`FittedImagePrep`) stored with the run and the model, and evaluation
 * and prediction on raw rows go through `transformImageInputs`, the very code `prepareImageInputs` uses
 * on the training images, so a prediction sees the pixels evaluation saw.
 *
 * Documented behaviour:
 * - Decoding: PNG everywhere with Lathe's own decoder (`png-decode.ts`), so one file gives the same
 *   pixels in a browser, a worker and Node; other formats (JPEG, GIF, WebP, BMP) with the
 *   browser's decoder (createImageBitmap + OffscreenCanvas, colour-space conversion off) and, where
 *   there is none (Node: the CLI, tests), `image_decode_unsupported` naming the format. A damaged image
 *   throws `image_decode_failed` naming it.
 * - Transparency is composited over black (colour × alpha), in every decoder.
 * - Grayscale (`channels: 1`) is the luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601); a gray image
 *   asked for as RGB repeats its one channel.
 * - Resizing stretches to width × height without keeping the aspect ratio (no crop, no letterbox), with
 *   tensor ops shared by every runtime: when the image is at least twice the target size along an axis it
 *   is first averaged over whole blocks of pixels (centred; up to factor − 1 edge pixels are dropped), then
 *   resized bilinearly with half-pixel centres. Averaging first keeps large downscales from aliasing.
 * - A channel that is constant over the training images keeps std 1 (like sklearn), with a warning.
 * - Augmentation works on normalized batches; see `augmentBatch`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { LatheError } from '../errors';
import { describeMagic, IMAGE_MAGIC, sniffMagic } from '../data/formats';
import type { ImageInputSpec } from '../models/model-spec';
import { seededRandom } from '../pipeline/split';
import { decodePng, isPng, MAX_IMAGE_PIXELS, type DecodedImage } from './png-decode';

const finite = z.number().finite();

export const FittedImagePrepSchema = z
  .object({
    version: z.literal(1),
    width: z.number().int().min(1),
    height: z.number().int().min(1),
    channels: z.union([z.literal(1), z.literal(3)]),
    /** Per channel, of the training pixels scaled to [0, 1]. */
    mean: z.array(finite),
    /** Per channel (population std); 1 where the channel is constant in training. */
    std: z.array(finite.positive()),
    /** Things the fit worked around (constant channels), for the UI. */
    warnings: z.array(z.string()),
    trainImages: z.number().int().min(1)
  })
  .refine((f) => f.mean.length === f.channels && f.std.length === f.channels, {
    message: 'mean and std need one value per channel'
  });
export type FittedImagePrep = z.infer<typeof FittedImagePrepSchema>;

/** The part of the image input spec that fixes the tensor shape. */
export type ImageShape = Pick<ImageInputSpec, 'width' | 'height' | 'channels'>;
export type ImageAugment = ImageInputSpec['augment'];

/** A fitted image preprocessing read back from JSON (a stored run, a model manifest). */
export function parseFittedImagePrep(json: unknown): FittedImagePrep {
  const parsed = FittedImagePrepSchema.safeParse(json);
  if (!parsed.success) {
    throw new LatheError(
      'prep_fitted_invalid',
      'The stored image preprocessing state is damaged or from another version.',
      { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }
    );
  }
  return parsed.data;
}

function checkShape(pixels: tf.Tensor, shape: ImageShape, what: string): void {
  const [, h, w, c] = pixels.shape;
  if (pixels.rank !== 4 || h !== shape.height || w !== shape.width || c !== shape.channels) {
    throw new LatheError(
      'image_shape_mismatch',
      `${what} expects images of ${shape.width}×${shape.height}×${shape.channels}, got a tensor of shape [${pixels.shape.join(', ')}].`,
      { expected: [shape.height, shape.width, shape.channels], actual: pixels.shape }
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Fit and normalize

/**
 * Per-channel mean and std of the training images scaled to [0, 1]. `pixels` is [n, h, w, c] with
 * values 0–255, already decoded and resized to the spec's size; only the training images may be given.
 */
/** Reads asynchronously: WebGPU cannot read GPU tensors synchronously. */
export async function fitImagePrep(pixels: tf.Tensor4D, spec: ImageShape): Promise<FittedImagePrep> {
  checkShape(pixels, spec, 'Fitting image preprocessing');
  const n = pixels.shape[0];
  if (n === 0) throw new LatheError('prep_no_rows', 'There are no training images to fit preprocessing on.');
  const [mean, variance, lo, hi] = tf.tidy(() => {
    // One transpose to [channels, pixels], so that every reduction runs along the innermost axis
    // (reducing over leading axes makes the CPU backend transpose the whole batch once per statistic).
    const perChannel = tf.transpose(tf.reshape(tf.cast(pixels, 'float32'), [-1, spec.channels]));
    const moments = tf.moments(tf.div(perChannel, 255), 1);
    // Constancy is judged exactly from the range: float32 variances of constant data are rarely exactly 0.
    return [moments.mean, moments.variance, tf.min(perChannel, 1), tf.max(perChannel, 1)];
  });
  const [meanValues, varianceValues, loValues, hiValues] = await Promise.all([
    mean.data(),
    variance.data(),
    lo.data(),
    hi.data()
  ]);
  const stats = { mean: meanValues, variance: varianceValues, lo: loValues, hi: hiValues };
  tf.dispose([mean, variance, lo, hi]);
  const warnings: string[] = [];
  const names = spec.channels === 1 ? ['gray'] : ['red', 'green', 'blue'];
  const std = Array.from(stats.variance, (v, c) => {
    if (stats.lo[c] === stats.hi[c] || !(v > 0)) {
      warnings.push(
        `The ${names[c] ?? `channel ${c}`} channel is constant over the training images; its std is left at 1.`
      );
      return 1;
    }
    return Math.sqrt(v);
  });
  return {
    version: 1,
    width: spec.width,
    height: spec.height,
    channels: spec.channels,
    mean: Array.from(stats.mean),
    std,
    warnings,
    trainImages: n
  };
}

/** (x / 255 − mean) / std per channel, float32 [n, h, w, c]. The caller disposes the result. */
export function normalizeImages(fitted: FittedImagePrep, pixels: tf.Tensor4D): tf.Tensor4D {
  checkShape(pixels, fitted, 'This model');
  return tf.tidy(() =>
    tf.div(
      tf.sub(tf.div(tf.cast(pixels, 'float32'), 255), tf.tensor1d(fitted.mean, 'float32')),
      tf.tensor1d(fitted.std, 'float32')
    )
  );
}

// ---------------------------------------------------------------------------------------------------
// Augmentation

/**
 * A seed for one batch of one epoch, mixed from the run's seed so that neighbouring epochs and batches
 * get unrelated augmentations (seed + epoch would repeat one batch's draws in the next epoch).
 */
export function augmentSeed(runSeed: number, epoch: number, batch: number): number {
  let h = runSeed >>> 0;
  for (const v of [epoch, batch]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export function isAugmenting(augment: ImageAugment): boolean {
  return augment.flipHorizontal || augment.cropPadding > 0 || augment.brightness > 0;
}

/**
 * Random augmentation of a normalized training batch [n, h, w, c], batched on the backend. Per image,
 * from a generator seeded with `seed` (draws in a fixed order — flip, crop row, crop column, brightness —
 * so turning one augmentation on or off does not change the others' draws):
 * - horizontal flip with probability ½;
 * - crop: the batch is padded with `cropPadding` zeros on every side (zero is the training mean colour
 *   once normalized) and a window of the original size is taken at a random offset;
 * - brightness: a shift drawn uniformly in ±`brightness` of the full 0–1 range, the same for every
 *   channel of an image before normalization, so `brightness / std[c]` is added to channel c. Without
 *   `scale` the batch is taken to be in [0, 1] units and the shift is added as is.
 * Flip and crop are one batched `cropAndResize` with nearest sampling at whole-pixel positions, so pixels
 * are copied, never interpolated. The same batch, options and seed give the same output bit for bit on
 * a backend. With every augmentation off it returns a clone.
 */
export function augmentBatch(
  batch: tf.Tensor4D,
  augment: ImageAugment,
  seed: number,
  scale?: Pick<FittedImagePrep, 'std'>
): tf.Tensor4D {
  const [n, h, w, c] = batch.shape;
  if (!isAugmenting(augment) || n === 0) return batch.clone();
  const pad = augment.cropPadding;
  if (!Number.isInteger(pad) || pad < 0 || !(augment.brightness >= 0)) {
    throw new LatheError(
      'image_augment_invalid',
      'Crop padding must be a whole number ≥ 0 and brightness ≥ 0.'
    );
  }
  if (scale && scale.std.length !== c) {
    throw new LatheError(
      'image_shape_mismatch',
      `The batch has ${c} channels but the scale has ${scale.std.length}.`
    );
  }
  const random = seededRandom(seed);
  // Boxes in the padded images' normalized coordinates; x1 > x2 makes cropAndResize mirror the crop.
  const paddedH = h + 2 * pad;
  const paddedW = w + 2 * pad;
  const spanY = Math.max(paddedH - 1, 1);
  const spanX = Math.max(paddedW - 1, 1);
  const boxes = new Float32Array(n * 4);
  const shifts = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    const flip = random() < 0.5 && augment.flipHorizontal;
    const top = Math.floor(random() * (2 * pad + 1));
    const left = Math.floor(random() * (2 * pad + 1));
    const delta = (2 * random() - 1) * augment.brightness;
    const x1 = left / spanX;
    const x2 = (left + w - 1) / spanX;
    boxes.set([top / spanY, flip ? x2 : x1, (top + h - 1) / spanY, flip ? x1 : x2], i * 4);
    for (let k = 0; k < c; k++) shifts[i * c + k] = delta / (scale?.std[k] ?? 1);
  }
  return tf.tidy(() => {
    let x: tf.Tensor4D = tf.cast(batch, 'float32');
    if (pad > 0 || augment.flipHorizontal) {
      if (pad > 0) {
        x = tf.pad(x, [
          [0, 0],
          [pad, pad],
          [pad, pad],
          [0, 0]
        ]);
      }
      // Nearest sampling lands on whole pixels (rounding absorbs float error), so the crop is exact. A
      // sample a hair outside the padded image takes the extrapolation value 0, which is what the
      // outermost padded rows and columns hold anyway; without padding the boxes are exactly 0 and 1.
      x = tf.image.cropAndResize(
        x,
        tf.tensor2d(boxes, [n, 4], 'float32'),
        tf.range(0, n, 1, 'int32') as tf.Tensor1D,
        [h, w],
        'nearest',
        0
      );
    }
    if (augment.brightness > 0) x = tf.add(x, tf.tensor4d(shifts, [n, 1, 1, c], 'float32'));
    return x;
  });
}

// ---------------------------------------------------------------------------------------------------
// Decoding

type RawImage = Omit<DecodedImage, 'data'> & { data: Uint8Array | Uint8ClampedArray };

function nameOf(index: number, names: readonly string[] | undefined): string {
  return names?.[index] ?? `image ${index + 1}`;
}

function canDecodeNatively(): boolean {
  return typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function';
}

async function decodeNatively(bytes: ArrayBuffer, mime: string): Promise<RawImage> {
  const bitmap = await createImageBitmap(new Blob([bytes], { type: mime }), {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none'
  });
  try {
    if (bitmap.width * bitmap.height > MAX_IMAGE_PIXELS) {
      throw new LatheError(
        'image_decode_unsupported',
        `The image is ${bitmap.width}×${bitmap.height}; images above ${MAX_IMAGE_PIXELS} pixels are not decoded.`,
        { width: bitmap.width, height: bitmap.height }
      );
    }
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('no 2D canvas context');
    context.drawImage(bitmap, 0, 0);
    const { data, width, height } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    return { data, width, height, channels: 4 };
  } finally {
    bitmap.close();
  }
}

/** The format's name for messages: from the bytes when they say, else from the MIME type. */
function formatName(bytes: Uint8Array, mime: string): string {
  const kind = sniffMagic(bytes);
  if (kind) return describeMagic(kind);
  return mime ? `a file of type ${mime}` : 'a file of unknown type';
}

async function decodeOne(buffer: ArrayBuffer, mime: string, name: string): Promise<RawImage> {
  const bytes = new Uint8Array(buffer);
  const kind = sniffMagic(bytes);
  try {
    if (isPng(bytes) || (kind === undefined && mime === 'image/png')) {
      try {
        return decodePng(bytes);
      } catch (err) {
        // The browser may read what the small decoder refuses (an unknown critical chunk, a huge image).
        if (err instanceof LatheError && err.code === 'image_decode_unsupported' && canDecodeNatively()) {
          return await decodeNatively(buffer, mime);
        }
        throw err;
      }
    }
    if (canDecodeNatively()) return await decodeNatively(buffer, mime);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const code = err instanceof LatheError ? err.code : 'image_decode_failed';
    const message =
      code === 'image_decode_unsupported'
        ? `${name}: ${reason}`
        : `${name} could not be decoded as an image: ${reason}`;
    throw new LatheError(code, message, { name, reason });
  }
  if ((kind && IMAGE_MAGIC.has(kind)) || mime.startsWith('image/')) {
    const format = formatName(bytes, mime);
    throw new LatheError(
      'image_decode_unsupported',
      `${name} is ${format}; outside a browser only PNG images can be decoded.`,
      { name, format: kind ?? mime }
    );
  }
  throw new LatheError('image_decode_failed', `${name} is not an image (${formatName(bytes, mime)}).`, {
    name,
    format: kind ?? mime
  });
}

/** One decoded image as [height, width, channels] float32 0–255 at the spec's size; see the module comment. */
function toSpecTensor(image: RawImage, spec: ImageShape): tf.Tensor3D {
  return tf.tidy(() => {
    let x: tf.Tensor3D = tf.tensor3d(
      Float32Array.from(image.data),
      [image.height, image.width, image.channels],
      'float32'
    );
    if (image.channels === 2 || image.channels === 4) {
      const colour = image.channels - 1;
      const [rgb, alpha] = tf.split(x, [colour, 1], 2) as [tf.Tensor3D, tf.Tensor3D];
      x = tf.mul(rgb, tf.div(alpha, 255));
    }
    const have = x.shape[2];
    if (spec.channels === 1 && have === 3) {
      x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114], 'float32')), 2, true);
    } else if (spec.channels === 3 && have === 1) {
      x = tf.tile(x, [1, 1, 3]);
    }
    return resizeTo(x, spec.height, spec.width);
  });
}

function resizeTo(image: tf.Tensor3D, height: number, width: number): tf.Tensor3D {
  const [h, w] = image.shape;
  if (h === height && w === width) return image;
  const fy = Math.max(1, Math.floor(h / height));
  const fx = Math.max(1, Math.floor(w / width));
  let x = image;
  if (fy > 1 || fx > 1) {
    const keepH = h - (h % fy);
    const keepW = w - (w % fx);
    x = tf.slice(x, [Math.floor((h - keepH) / 2), Math.floor((w - keepW) / 2), 0], [keepH, keepW, -1]);
    x = tf.avgPool(x, [fy, fx], [fy, fx], 'valid');
  }
  const [ph, pw] = x.shape;
  if (ph === height && pw === width) return x;
  return tf.image.resizeBilinear(x, [height, width], false, true);
}

/**
 * Decodes encoded images (PNG anywhere; JPEG, GIF, WebP, BMP where a browser decoder exists) into
 * [n, height, width, channels] float32 pixels 0–255 at the spec's size. `names` (paths, row labels)
 * only make error messages say which image failed. The caller disposes the result.
 */
export async function decodeImages(
  blobs: readonly ArrayBuffer[],
  mimes: readonly string[],
  spec: ImageShape,
  names?: readonly string[]
): Promise<tf.Tensor4D> {
  if (blobs.length !== mimes.length) {
    throw new LatheError('image_input_invalid', `Got ${blobs.length} images but ${mimes.length} MIME types.`);
  }
  const images: tf.Tensor3D[] = [];
  try {
    for (let i = 0; i < blobs.length; i++) {
      const raw = await decodeOne(blobs[i] as ArrayBuffer, mimes[i] ?? '', nameOf(i, names));
      images.push(toSpecTensor(raw, spec));
    }
    if (images.length === 0) return tf.zeros([0, spec.height, spec.width, spec.channels], 'float32');
    return tf.stack(images) as tf.Tensor4D;
  } finally {
    tf.dispose(images);
  }
}

// ---------------------------------------------------------------------------------------------------
// Training and prediction entry points

/**
 * Decodes the training images, fits the preprocessing on them and returns it with their normalized
 * tensor [n, h, w, c]. The caller disposes `x`.
 */
export async function prepareImageInputs(
  blobs: readonly ArrayBuffer[],
  mimes: readonly string[],
  spec: ImageShape,
  names?: readonly string[]
): Promise<{ fitted: FittedImagePrep; x: tf.Tensor4D }> {
  const pixels = await decodeImages(blobs, mimes, spec, names);
  try {
    const fitted = await fitImagePrep(pixels, spec);
    return { fitted, x: normalizeImages(fitted, pixels) };
  } finally {
    pixels.dispose();
  }
}

/**
 * Images for evaluation or prediction, through the same decode and normalize code as training, with
 * the fitted state of the run or model. The caller disposes the result.
 */
export async function transformImageInputs(
  fitted: FittedImagePrep,
  blobs: readonly ArrayBuffer[],
  mimes: readonly string[],
  names?: readonly string[]
): Promise<tf.Tensor4D> {
  const pixels = await decodeImages(blobs, mimes, fitted, names);
  try {
    return normalizeImages(fitted, pixels);
  } finally {
    pixels.dispose();
  }
}
