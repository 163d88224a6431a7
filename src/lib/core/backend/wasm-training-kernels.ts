/**
 * Training kernels for tfjs-backend-wasm 4.22. Its forward kernels are XNNPACK (fast); the kernels that
 * only training needs are missing or plain C++ loops many times slower than the forward pass:
 *
 * - BatchMatMul with `transposeA`/`transposeB` (both halves of every dense layer's gradient) skips
 *   XNNPACK: 1.5–2 GFLOP/s against 12–26 without the flags. The override transposes the operand with
 *   wasm's Transpose kernel and multiplies without flags.
 * - Conv2DBackpropFilter does not exist. The filter gradient is itself a convolution of the input with
 *   the output gradient, with the batch as the channel axis, so it runs on XNNPACK's Conv2D (strides as
 *   dilations). XNNPACK repacks a filter on every call, so the smaller of the two plays the filter.
 * - Conv2DBackpropInput is a plain loop. For stride 1 the input gradient is the output gradient convolved
 *   with the filter flipped in space and with in/out channels swapped, on XNNPACK.
 * - Sum over leading axes (a bias's gradient) transposes first; XNNPACK's average pool does it in place.
 * - Identity copies, and tfjs clones every tensor it keeps for the backward pass; it now shares.
 * - Adam's step is about fifteen elementwise ops per parameter, each a kernel call; `FUSED_ADAM_STEP`
 *   (fused-kernels.ts) does it in one loop.
 * - Slice copies its whole input out of the heap before it slices; a contiguous slice is one copy here.
 * - MaxPoolGrad and GatherV2 are generic loops, and UnsortedSegmentSum (the gradient of a gather, which
 *   embeddings need) does not exist: these are loops over the wasm heap here.
 *
 * Each replacement keeps the semantics of the tfjs cpu backend (the spec compares them), and falls back
 * to the original kernel for cases it does not cover (other data formats, dilated convolutions).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  BIAS_ACTIVATION_GRAD,
  FUSED_ADAM_STEP,
  FUSED_CONV,
  FUSED_DENSE,
  FUSED_DENSE_GRAD,
  type FusedAdamAttrs,
  type FusedConvAttrs,
  type FusedDenseAttrs
} from './fused-kernels';
import { simdKernelsFor, simdKernelsSupported, type SimdKernels } from './simd-kernels';

type Info = tf.TensorInfo;
type Shape4 = [number, number, number, number];
type Pad =
  'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** The parts of tfjs-backend-wasm's BackendWasm used here (not exported as a type by the package). */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: unknown): boolean;
  incRef(dataId: unknown): void;
  /** The Emscripten module (its memory is what Lathe's SIMD kernels run on). */
  wasm: Parameters<typeof simdKernelsFor>[0];
}

type KernelArgs = { inputs: Record<string, Info>; backend: WasmBackend; attrs: Record<string, unknown> };
type Kernel = (args: KernelArgs) => Info;
type MultiKernel = (args: KernelArgs) => Info[];

const registered = new Set<string>();

/** The wasm kernel `name` as registered now (an override here passes the cases it leaves through). */
function original(name: string): Kernel {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`tfjs-backend-wasm has no ${name} kernel.`);
  return config.kernelFunc as unknown as Kernel;
}

/**
 * Replaces (or adds) the wasm kernel `name`. The original's setup function is kept: it binds the C++
 * entry point the original kernel (still called for the cases not handled here) needs.
 */
function override(name: string, make: (base: Kernel | null) => Kernel | MultiKernel): void {
  if (registered.has(name)) return;
  const existing = tf.getKernel(name, 'wasm');
  const kernelFunc = make(existing ? (existing.kernelFunc as unknown as Kernel) : null);
  if (existing) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    setupFunc: existing?.setupFunc,
    disposeFunc: existing?.disposeFunc,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc
  });
  registered.add(name);
}

/** Runs `f` with intermediates it registers through `temp`, freeing them afterwards. */
function withTemps<T>(backend: WasmBackend, f: (temp: (info: Info) => Info) => T): T {
  const temps: Info[] = [];
  try {
    return f((info) => {
      temps.push(info);
      return info;
    });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

function transposeInfo(backend: WasmBackend, x: Info, perm: number[]): Info {
  return original('Transpose')({ inputs: { x }, backend, attrs: { perm } });
}

/** wasm's (XNNPACK) Conv2D, stride 1, with explicit padding `[top, bottom, left, right]`. */
function convInfo(
  backend: WasmBackend,
  x: Info,
  filter: Info,
  [top, bottom, left, right]: [number, number, number, number],
  dilations: [number, number] = [1, 1]
): Info {
  return original('Conv2D')({
    inputs: { x, filter },
    backend,
    attrs: {
      strides: [1, 1],
      dilations,
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0]
      ],
      dataFormat: 'NHWC'
    }
  });
}

/** Byte offset of a tensor's data in the wasm heap (what the SIMD kernels take as a pointer). */
function pointer(backend: WasmBackend, info: Info): number {
  return backend.typedArrayFromHeap(info).byteOffset;
}

function simd(backend: WasmBackend): SimdKernels | null {
  return simdKernelsFor(backend.wasm);
}

function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  const [a, b] = v as [number, number];
  return [a, b];
}

/**
 * BatchMatMul. One product of float32 matrices (the dense layers' forward and backward products) runs
 * on the SIMD kernel: XNNPACK's fully-connected operator is built and its weights packed on every call,
 * about 60 µs before any arithmetic, more than a dense layer's product takes. Otherwise, without
 * XNNPACK's slow transposed path: materialize the transpose, then multiply.
 */
function batchMatMul(base: Kernel): Kernel {
  return (args) => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const { backend } = args;
    const { a, b } = args.inputs as { a: Info; b: Info };
    const swapLast = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
    const kernels = simd(backend);
    const outer = (t: Info) => tf.util.sizeFromShape(t.shape.slice(0, -2));
    if (
      kernels &&
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      outer(a) === 1 &&
      outer(b) === 1 &&
      tf.util.sizeFromShape(a.shape) > 0 &&
      tf.util.sizeFromShape(b.shape) > 0
    ) {
      const [rowsA = 0, colsA = 0] = a.shape.slice(-2);
      const [rowsB = 0, colsB = 0] = b.shape.slice(-2);
      const m = transposeA ? colsA : rowsA;
      const k = transposeA ? rowsA : colsA;
      const n = transposeB ? rowsB : colsB;
      const ones = Array.from({ length: Math.max(a.shape.length, b.shape.length) - 2 }, () => 1);
      return withTemps(backend, (temp) => {
        // The kernel reads b by rows of n: a transposed b is laid out that way first (it is the smaller
        // operand in a dense layer's backward pass: the weights).
        const rowsOfB = transposeB ? temp(transposeInfo(backend, b, swapLast(b.shape.length))) : b;
        const out = backend.makeOutput([...ones, m, n], 'float32');
        kernels.matMul(
          pointer(backend, a),
          pointer(backend, rowsOfB),
          pointer(backend, out),
          m,
          n,
          k,
          transposeA ? 1 : k,
          transposeA ? m : 1,
          0,
          0
        );
        return out;
      });
    }
    if (!transposeA && !transposeB) return base(args);
    return withTemps(backend, (temp) => {
      const a2 = transposeA ? temp(transposeInfo(backend, a, swapLast(a.shape.length))) : a;
      const b2 = transposeB ? temp(transposeInfo(backend, b, swapLast(b.shape.length))) : b;
      return base({
        ...args,
        inputs: { a: a2, b: b2 },
        attrs: { ...args.attrs, transposeA: false, transposeB: false }
      });
    });
  };
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: string;
}

function supportedConv(attrs: ConvAttrs): boolean {
  const [dh, dw] = pair(attrs.dilations ?? 1);
  return (!attrs.dataFormat || attrs.dataFormat === 'NHWC') && dh === 1 && dw === 1;
}

/**
 * dW[kh, kw, c, o] = Σ_{n, y, x} in[n, y·s + kh − top, x·s + kw − left, c] · dy[n, y, x, o]: a convolution
 * of the input (batch as channels) with dy (batch as input channels, dilated by the stride).
 */
function conv2DBackpropFilter(base: Kernel | null): Kernel {
  return (args) => {
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: Shape4 };
    const { backend } = args;
    const { x, dy } = args.inputs as { x: Info; dy: Info };
    if (!supportedConv(attrs)) {
      if (base) return base(args);
      throw new Error('Conv2DBackpropFilter on wasm supports NHWC data without dilation only.');
    }
    const { filterShape } = attrs;
    const [kh, kw] = filterShape;
    const [sh, sw] = pair(attrs.strides);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4,
      filterShape,
      [sh, sw],
      1,
      attrs.pad as 'same',
      attrs.dimRoundingMode as 'round' | undefined
    );
    const [batch, h, w, c] = x.shape as Shape4;
    const [, oh, ow, co] = dy.shape as Shape4;
    const { top, left } = info.padInfo;
    const kernels = simd(backend);
    if (kernels && x.dtype === 'float32' && dy.dtype === 'float32' && co % 4 === 0) {
      // Straight from x and dy where they lie (assembly/training-kernels.ts): no transposes, no repacking.
      const out = backend.makeOutput([...filterShape], 'float32');
      kernels.conv2dFilterGrad(
        pointer(backend, x),
        pointer(backend, dy),
        pointer(backend, out),
        batch,
        h,
        w,
        c,
        oh,
        ow,
        co,
        kh,
        kw,
        sh,
        sw,
        top,
        left
      );
      return out;
    }
    if (sh === 1 && sw === 1 && tf.util.sizeFromShape(x.shape) < tf.util.sizeFromShape(dy.shape)) {
      // XNNPACK repacks a convolution's filter on every call, at a few ns per value, so the smaller of the
      // two tensors should be the filter: here the input ([H, W, N, C]) slides over dy ([CO, OH, OW, N]),
      // which gives the gradient flipped in space.
      return withTemps(backend, (temp) => {
        const input = temp(transposeInfo(backend, dy, [3, 1, 2, 0]));
        const filter = temp(transposeInfo(backend, x, [1, 2, 0, 3]));
        const flipped = temp(
          convInfo(backend, input, filter, [kh - 1 - top, h - oh + top, kw - 1 - left, w - ow + left])
        );
        const grad = temp(original('Reverse')({ inputs: { x: flipped }, backend, attrs: { dims: [1, 2] } }));
        return transposeInfo(backend, grad, [1, 2, 3, 0]);
      });
    }
    // Pad (or crop) the far side so the output is exactly the filter's size.
    const bottom = kh + (oh - 1) * sh - h - top;
    const right = kw + (ow - 1) * sw - w - left;
    return withTemps(backend, (temp) => {
      let input = temp(transposeInfo(backend, x, [3, 1, 2, 0]));
      if (bottom < 0 || right < 0) {
        const [c, , , n] = input.shape as Shape4;
        input = temp(
          original('Slice')({
            inputs: { x: input },
            backend,
            attrs: { begin: [0, 0, 0, 0], size: [c, h + Math.min(0, bottom), w + Math.min(0, right), n] }
          })
        );
      }
      const filter = temp(transposeInfo(backend, dy, [1, 2, 0, 3]));
      const grad = temp(
        convInfo(backend, input, filter, [top, Math.max(0, bottom), left, Math.max(0, right)], [sh, sw])
      );
      return transposeInfo(backend, grad, [1, 2, 0, 3]);
    });
  };
}

/** For stride 1: dx = dy convolved with the filter flipped in space and its channel axes swapped. */
function conv2DBackpropInput(base: Kernel): Kernel {
  return (args) => {
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: Shape4 };
    const [sh, sw] = pair(attrs.strides);
    if (!supportedConv(attrs) || sh !== 1 || sw !== 1) return base(args);
    const { backend } = args;
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const { inputShape } = attrs;
    const [kh, kw] = filter.shape as Shape4;
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as Shape4,
      1,
      1,
      attrs.pad as 'same',
      attrs.dimRoundingMode as 'round' | undefined
    );
    const [, h, w] = inputShape;
    const [, oh, ow] = dy.shape as Shape4;
    const { top, left } = info.padInfo;
    return withTemps(backend, (temp) => {
      const flipped = temp(original('Reverse')({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
      const swapped = temp(transposeInfo(backend, flipped, [0, 1, 3, 2]));
      return convInfo(backend, dy, swapped, [kh - 1 - top, h - oh + top, kw - 1 - left, w - ow + left]);
    });
  };
}

/**
 * The gradient of a max pool: each window's gradient goes to its first maximum (row-major), as on the
 * tfjs cpu backend and in PyTorch, so flat regions (ties) are not counted twice.
 */
function maxPoolGrad(base: Kernel): Kernel {
  return (args) => {
    const attrs = args.attrs as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: Pad;
      dimRoundingMode?: string;
    };
    const { backend } = args;
    const { dy, input } = args.inputs as { dy: Info; input: Info };
    if (input.dtype !== 'float32') return base(args);
    const info = tf.backend_util.computePool2DInfo(
      input.shape as Shape4,
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad as 'same',
      attrs.dimRoundingMode as 'round' | undefined
    );
    const out = backend.makeOutput(input.shape, 'float32');
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
    const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
    const { top, left } = info.padInfo;
    const kernels = simd(backend);
    const valid2x2 =
      filterHeight === 2 &&
      filterWidth === 2 &&
      strideHeight === 2 &&
      strideWidth === 2 &&
      top === 0 &&
      left === 0 &&
      outHeight === Math.floor(inHeight / 2) &&
      outWidth === Math.floor(inWidth / 2);
    if (kernels && valid2x2 && channels % 4 === 0) {
      kernels.maxPool2x2Grad(
        pointer(backend, input),
        pointer(backend, dy),
        pointer(backend, out),
        batchSize,
        inHeight,
        inWidth,
        channels
      );
      return out;
    }
    const x = backend.typedArrayFromHeap(input);
    const g = backend.typedArrayFromHeap(dy);
    const dx = backend.typedArrayFromHeap(out);
    dx.fill(0);
    const rowStride = inWidth * channels;
    const pairs = filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2;
    let o = 0;
    for (let n = 0; n < batchSize; n++) {
      const image = n * inHeight * rowStride;
      for (let oy = 0; oy < outHeight; oy++) {
        const y0 = oy * strideHeight - top;
        const yStart = Math.max(0, y0);
        const yEnd = Math.min(inHeight, y0 + filterHeight);
        for (let ox = 0; ox < outWidth; ox++) {
          const x0 = ox * strideWidth - left;
          const xStart = Math.max(0, x0);
          const xEnd = Math.min(inWidth, x0 + filterWidth);
          const corner = image + yStart * rowStride + xStart * channels;
          if (pairs && yEnd - yStart === 2 && xEnd - xStart === 2) {
            // The common 2×2 pool, unrolled: four candidates, first maximum wins.
            for (let c = 0; c < channels; c++, o++) {
              const i00 = corner + c;
              const i01 = i00 + channels;
              const i10 = i00 + rowStride;
              const i11 = i10 + channels;
              let at = i00;
              let best = x[i00] as number;
              if ((x[i01] as number) > best) {
                best = x[i01] as number;
                at = i01;
              }
              if ((x[i10] as number) > best) {
                best = x[i10] as number;
                at = i10;
              }
              if ((x[i11] as number) > best) at = i11;
              dx[at] = (dx[at] as number) + (g[o] as number);
            }
            continue;
          }
          for (let c = 0; c < channels; c++, o++) {
            let at = -1;
            let best = -Infinity;
            for (let y = yStart; y < yEnd; y++) {
              for (let xx = xStart; xx < xEnd; xx++) {
                const i = image + y * rowStride + xx * channels + c;
                if (at < 0 || (x[i] as number) > best) {
                  best = x[i] as number;
                  at = i;
                }
              }
            }
            if (at >= 0) dx[at] = (dx[at] as number) + (g[o] as number);
          }
        }
      }
    }
    return out;
  };
}

/**
 * Sums over leading axes (a bias's gradient: every axis but the channels). wasm's Sum transposes the
 * reduced axes to the end first, a full copy of the (large) activation gradient; XNNPACK's average pool
 * over one window covering every row, times the row count, is ten times faster.
 */
function sum(base: Kernel): Kernel {
  return (args) => {
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const { backend } = args;
    const { x } = args.inputs as { x: Info };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading || axes.length === 0 || axes.length === x.shape.length) {
      return base(args);
    }
    const kept = x.shape.slice(axes.length);
    const inner = tf.util.sizeFromShape(kept);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    // The rows as one image ([1, height, width, inner]) averaged by a single window as large as it.
    const width = axes.length > 1 ? (x.shape[axes.length - 1] as number) : 1;
    const height = rows / width;
    return withTemps(backend, (temp) => {
      const mean = temp(
        original('AvgPool')({
          inputs: { x: { dataId: x.dataId, dtype: x.dtype, shape: [1, height, width, inner] } },
          backend,
          attrs: { filterSize: [height, width], strides: 1, pad: 'valid' }
        })
      );
      const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
      const means = backend.typedArrayFromHeap(mean);
      const sums = backend.typedArrayFromHeap(out);
      for (let c = 0; c < inner; c++) sums[c] = (means[c] as number) * rows;
      return out;
    });
  };
}

/**
 * A contiguous slice (the trainer takes each batch's row ids from the epoch's order this way) as one
 * copy inside the heap. wasm's Slice first reads the whole input out of the heap (`readSync` copies it),
 * however small the slice.
 */
function slice(base: Kernel): Kernel {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    if (x.dtype === 'string') return base(args);
    const [start = [], extent = []] = tf.slice_util.parseSliceParams(x, begin, size);
    if (!tf.slice_util.isSliceContinous(x.shape, start, extent)) return base(args);
    const { backend } = args;
    const out = backend.makeOutput(extent, x.dtype);
    const offset = tf.slice_util.computeFlatOffset(start, tf.util.computeStrides(x.shape));
    const count = tf.util.sizeFromShape(extent);
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(offset, offset + count));
    return out;
  };
}

/** Rows of `x` along axis 0 (the trainer's batches): one block copy per row instead of per element. */
function gatherV2(base: Kernel): Kernel {
  return (args) => {
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    const { backend } = args;
    const { x, indices } = args.inputs as { x: Info; indices: Info };
    const rank = x.shape.length;
    if (
      tf.util.parseAxisParam(axis, x.shape)[0] !== 0 ||
      batchDims !== 0 ||
      (x.dtype !== 'float32' && x.dtype !== 'int32') ||
      indices.dtype !== 'int32' ||
      rank === 0
    ) {
      return base(args);
    }
    const rows = x.shape[0] as number;
    const idx = backend.typedArrayFromHeap(indices);
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i] as number;
      if (r < 0 || r >= rows) return base(args);
    }
    const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Both dtypes are 4 bytes wide: copy within one view of the whole heap, no view per row.
    const from = backend.typedArrayFromHeap(x);
    const heap = new Int32Array(from.buffer);
    const source = from.byteOffset >> 2;
    const target = backend.typedArrayFromHeap(out).byteOffset >> 2;
    const ids = backend.typedArrayFromHeap(indices);
    for (let i = 0; i < ids.length; i++) {
      const start = source + (ids[i] as number) * rowSize;
      const to = target + i * rowSize;
      if (rowSize > 64) heap.copyWithin(to, start, start + rowSize);
      else for (let j = 0; j < rowSize; j++) heap[to + j] = heap[start + j] as number;
    }
    return out;
  };
}

/** out[s] = Σ_{i: segmentIds[i] = s} x[i]: the gradient of a row gather (embeddings). */
function unsortedSegmentSum(): Kernel {
  return (args) => {
    const { numSegments } = args.attrs as { numSegments: number };
    const { backend } = args;
    const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info };
    if (x.dtype !== 'float32' || segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
      throw new Error('UnsortedSegmentSum on wasm supports float32 rows with one segment id each.');
    }
    const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
    const out = backend.makeOutput([numSegments, ...x.shape.slice(1)], 'float32');
    const values = backend.typedArrayFromHeap(x);
    const ids = backend.typedArrayFromHeap(segmentIds);
    const sums = backend.typedArrayFromHeap(out);
    sums.fill(0);
    for (let i = 0; i < ids.length; i++) {
      const s = ids[i] as number;
      if (s < 0 || s >= numSegments) continue;
      const from = i * rowSize;
      const to = s * rowSize;
      for (let j = 0; j < rowSize; j++)
        sums[to + j] = (sums[to + j] as number) + (values[from + j] as number);
    }
    return out;
  };
}

function requireSimd(backend: WasmBackend): SimdKernels {
  const kernels = simd(backend);
  if (!kernels)
    throw new Error('Lathe’s wasm SIMD kernels could not be bound to this wasm backend’s memory.');
  return kernels;
}

/** `FUSED_DENSE`: the product, the bias and the clamp in one pass of the SIMD matrix product. */
function fusedDense(): Kernel {
  return (args) => {
    const { backend } = args;
    const { x, w, b } = args.inputs as { x: Info; w: Info; b: Info };
    const { activation } = args.attrs as unknown as FusedDenseAttrs;
    const [rows = 0, inner = 0] = x.shape;
    const units = w.shape[1] ?? 0;
    const out = backend.makeOutput([rows, units], 'float32');
    const kernels = requireSimd(backend);
    kernels.matMul(
      pointer(backend, x),
      pointer(backend, w),
      pointer(backend, out),
      rows,
      units,
      inner,
      inner,
      1,
      pointer(backend, b),
      activation === 'relu' ? 1 : 0
    );
    return out;
  };
}

/**
 * `FUSED_DENSE_GRAD`: d = dy through the activation, db = Σ_rows d, dw = xᵀ·d, dx = d·wᵀ (wᵀ laid out
 * first: it is small).
 */
function fusedDenseGrad(): MultiKernel {
  return (args) => {
    const { backend } = args;
    const { dy, x, w, y } = args.inputs as { dy: Info; x: Info; w: Info; y: Info };
    const { activation } = args.attrs as unknown as FusedDenseAttrs;
    const [rows = 0, inner = 0] = x.shape;
    const units = w.shape[1] ?? 0;
    const kernels = requireSimd(backend);
    return withTemps(backend, (temp) => {
      const relu = activation === 'relu';
      const d = relu ? temp(backend.makeOutput([rows, units], 'float32')) : dy;
      const db = backend.makeOutput([units], 'float32');
      kernels.denseOutputGrad(
        pointer(backend, dy),
        pointer(backend, y),
        pointer(backend, d),
        pointer(backend, db),
        rows,
        units,
        relu ? 1 : 0
      );
      const dw = backend.makeOutput([inner, units], 'float32');
      kernels.matMul(
        pointer(backend, x),
        pointer(backend, d),
        pointer(backend, dw),
        inner,
        units,
        rows,
        1,
        inner,
        0,
        0
      );
      const wT = temp(transposeInfo(backend, w, [1, 0]));
      const dx = backend.makeOutput([rows, inner], 'float32');
      kernels.matMul(
        pointer(backend, d),
        pointer(backend, wT),
        pointer(backend, dx),
        rows,
        inner,
        units,
        units,
        1,
        0,
        0
      );
      return [dx, dw, db];
    });
  };
}

/** `FUSED_CONV`: wasm's (XNNPACK) FusedConv2D, which adds the bias and clamps as it writes the output. */
function fusedConv(): Kernel {
  return (args) => {
    const { x, filter, b } = args.inputs as { x: Info; filter: Info; b: Info };
    const { activation, strides, pad } = args.attrs as unknown as FusedConvAttrs;
    return original('FusedConv2D')({
      inputs: { x, filter, bias: b },
      backend: args.backend,
      attrs: { strides, pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation }
    });
  };
}

/** `BIAS_ACTIVATION_GRAD`: d = dy through the activation (dy itself, shared, when linear), db = Σ d per channel. */
function biasActivationGrad(): MultiKernel {
  return (args) => {
    const { backend } = args;
    const { dy, y } = args.inputs as { dy: Info; y: Info };
    const { activation } = args.attrs as unknown as FusedDenseAttrs;
    const channels = dy.shape.at(-1) ?? 0;
    const rows = tf.util.sizeFromShape(dy.shape) / Math.max(1, channels);
    const relu = activation === 'relu';
    let d: Info;
    if (relu) {
      d = backend.makeOutput(dy.shape, 'float32');
    } else {
      backend.incRef(dy.dataId);
      d = { dataId: dy.dataId, shape: dy.shape, dtype: dy.dtype };
    }
    const db = backend.makeOutput([channels], 'float32');
    requireSimd(backend).denseOutputGrad(
      pointer(backend, dy),
      pointer(backend, y),
      pointer(backend, d),
      pointer(backend, db),
      rows,
      channels,
      relu ? 1 : 0
    );
    return [d, db];
  };
}

/**
 * Identity (and a cast to the same type) shares the buffer, as on the cpu backend, instead of copying it.
 * tfjs clones every tensor it saves for the backward pass, so wasm's copying Identity copied each layer's
 * activations once per step. Kernels never write to their inputs, so sharing is safe (wasm's Reshape
 * already shares).
 */
function shareBuffer(base: Kernel, sameType: (args: KernelArgs) => boolean): Kernel {
  return (args) => {
    const { x } = args.inputs as { x: Info };
    if (x.dtype === 'string' || !sameType(args)) return base(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** One Adam/AdamW step (`fused-kernels.ts`) as a loop over the heap, in double precision. */
function fusedAdamStep(): MultiKernel {
  return (args) => {
    const { learningRate, beta1, beta2, epsilon, step, decay } = args.attrs as unknown as FusedAdamAttrs;
    const { backend } = args;
    const { w, g, m, v } = args.inputs as { w: Info; g: Info; m: Info; v: Info };
    const outs = [w, m, v].map((t) => backend.makeOutput(t.shape, 'float32'));
    const [wOut, mOut, vOut] = outs.map((t) => backend.typedArrayFromHeap(t)) as [
      Float32Array,
      Float32Array,
      Float32Array
    ];
    const [wIn, gIn, mIn, vIn] = [w, g, m, v].map((t) => backend.typedArrayFromHeap(t)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array
    ];
    const correction1 = 1 - beta1 ** step;
    const correction2 = 1 - beta2 ** step;
    for (let i = 0; i < wIn.length; i++) {
      const grad = gIn[i] as number;
      const mi = beta1 * (mIn[i] as number) + (1 - beta1) * grad;
      const vi = beta2 * (vIn[i] as number) + (1 - beta2) * grad * grad;
      mOut[i] = mi;
      vOut[i] = vi;
      wOut[i] =
        (wIn[i] as number) * decay -
        (learningRate * (mi / correction1)) / (Math.sqrt(vi / correction2) + epsilon);
    }
    return outs;
  };
}

/** Registers the kernels above once; call after the wasm backend's package has been imported. */
export function registerWasmTrainingKernels(): void {
  if (!tf.getKernel('BatchMatMul', 'wasm')) return;
  override('BatchMatMul', (base) => batchMatMul(base as Kernel));
  override('Conv2DBackpropFilter', conv2DBackpropFilter);
  override('Conv2DBackpropInput', (base) => conv2DBackpropInput(base as Kernel));
  override('MaxPoolGrad', (base) => maxPoolGrad(base as Kernel));
  override('GatherV2', (base) => gatherV2(base as Kernel));
  override('Slice', (base) => slice(base as Kernel));
  override('Sum', (base) => sum(base as Kernel));
  override('Identity', (base) => shareBuffer(base as Kernel, () => true));
  override(FUSED_ADAM_STEP, fusedAdamStep);
  override('Cast', (base) =>
    shareBuffer(base as Kernel, ({ inputs, attrs }) => inputs.x?.dtype === attrs.dtype)
  );
  override('UnsortedSegmentSum', unsortedSegmentSum);
  if (simdKernelsSupported()) registerFusedLayers();
}

const FUSED_LAYERS: Array<[string, Kernel | MultiKernel]> = [
  [FUSED_DENSE, fusedDense()],
  [FUSED_DENSE_GRAD, fusedDenseGrad()],
  [FUSED_CONV, fusedConv()],
  [BIAS_ACTIVATION_GRAD, biasActivationGrad()]
];

/**
 * The fused layers need the SIMD kernels bound to the backend's memory, known only once the backend has
 * started: tfjs runs each kernel's setup then, and where the kernels cannot be bound the fused layers
 * are taken away again, so `network.ts` uses the plain ops.
 */
function registerFusedLayers(): void {
  for (const [name, kernelFunc] of FUSED_LAYERS) {
    if (registered.has(name)) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
      setupFunc: (backend) => {
        if (!simd(backend as unknown as WasmBackend) && tf.getKernel(name, 'wasm')) {
          tf.unregisterKernel(name, 'wasm');
          registered.delete(name);
        }
      }
    });
    registered.add(name);
  }
}
