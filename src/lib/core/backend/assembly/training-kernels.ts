/**
 * AssemblyScript source of Lathe's own wasm SIMD training kernels (see ../simd-kernels.ts). The module
 * imports tfjs-backend-wasm's memory, so the kernels read and write tensors where they are: every
 * pointer is a byte offset into that heap. No static data, no allocation: the module writes only to
 * the outputs it is given.
 *
 * Build: `node scripts/build-kernels.mjs` (regenerates ../training-kernels.wasm.ts).
 */

/**
 * The filter gradient of a 2-D convolution (NHWC, no dilation), accumulated in place:
 * dw[ky, kx, c, o] = Σ_{n, oy, ox} x[n, oy·sh + ky − top, ox·sw + kx − left, c] · dy[n, oy, ox, o].
 * `co` must be a multiple of 4. dw is zeroed first.
 *
 * For each output row and tap it runs over the row's pixels with a register tile of 16 outputs × 2
 * channels (eight f32x4 accumulators), so dy is read where it lies: no transposes, no repacking.
 */
export function conv2dFilterGrad(
  x: usize,
  dy: usize,
  dw: usize,
  batch: i32,
  h: i32,
  w: i32,
  c: i32,
  oh: i32,
  ow: i32,
  co: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  top: i32,
  left: i32
): void {
  memory.fill(dw, 0, <usize>(kh * kw * c * co) << 2);
  const xPixel = <usize>c << 2;
  const xStep = <usize>(sw * c) << 2;
  const dyStep = <usize>co << 2;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < oh; oy++) {
      const dyRow = dy + ((<usize>(n * oh + oy) * <usize>ow * <usize>co) << 2);
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh + ky - top;
        if (iy < 0 || iy >= h) continue;
        const xRow = x + ((<usize>(n * h + iy) * <usize>w * <usize>c) << 2);
        for (let kx = 0; kx < kw; kx++) {
          // The output columns whose input column ix = ox·sw + kx − left lies inside the image.
          let ox0 = 0;
          while (ox0 < ow && ox0 * sw + kx - left < 0) ox0++;
          let ox1 = ow;
          while (ox1 > ox0 && (ox1 - 1) * sw + kx - left >= w) ox1--;
          const count = ox1 - ox0;
          if (count <= 0) continue;
          const xStart = xRow + <usize>(ox0 * sw + kx - left) * xPixel;
          const dyStart = dyRow + (<usize>ox0 << 2) * <usize>co;
          const tap = dw + ((<usize>((ky * kw + kx) * c) * <usize>co) << 2);
          let o = 0;
          for (; o + 16 <= co; o += 16) {
            let ch = 0;
            for (; ch + 2 <= c; ch += 2) {
              tile16x2(
                xStart + (<usize>ch << 2),
                dyStart + (<usize>o << 2),
                tap + ((<usize>(ch * co + o)) << 2),
                count,
                xStep,
                dyStep,
                dyStep
              );
            }
            if (ch < c) {
              tile16x1(xStart + (<usize>ch << 2), dyStart + (<usize>o << 2), tap + ((<usize>(ch * co + o)) << 2), count, xStep, dyStep);
            }
          }
          for (; o < co; o += 4) {
            for (let ch = 0; ch < c; ch++) {
              tile4x1(xStart + (<usize>ch << 2), dyStart + (<usize>o << 2), tap + ((<usize>(ch * co + o)) << 2), count, xStep, dyStep);
            }
          }
        }
      }
    }
  }
}

/** acc[ch 0..1][o 0..15] += x[p, ch] · dy[p, o] over `count` pixels; `accRow` is the stride between the two rows. */
@inline
function tile16x2(xp: usize, dyp: usize, acc: usize, count: i32, xStep: usize, dyStep: usize, accRow: usize): void {
  let a0 = v128.load(acc);
  let a1 = v128.load(acc, 16);
  let a2 = v128.load(acc, 32);
  let a3 = v128.load(acc, 48);
  let b0 = v128.load(acc + accRow);
  let b1 = v128.load(acc + accRow, 16);
  let b2 = v128.load(acc + accRow, 32);
  let b3 = v128.load(acc + accRow, 48);
  for (let i = 0; i < count; i++) {
    const d0 = v128.load(dyp);
    const d1 = v128.load(dyp, 16);
    const d2 = v128.load(dyp, 32);
    const d3 = v128.load(dyp, 48);
    const s = f32x4.splat(load<f32>(xp));
    a0 = f32x4.add(a0, f32x4.mul(s, d0));
    a1 = f32x4.add(a1, f32x4.mul(s, d1));
    a2 = f32x4.add(a2, f32x4.mul(s, d2));
    a3 = f32x4.add(a3, f32x4.mul(s, d3));
    const t = f32x4.splat(load<f32>(xp, 4));
    b0 = f32x4.add(b0, f32x4.mul(t, d0));
    b1 = f32x4.add(b1, f32x4.mul(t, d1));
    b2 = f32x4.add(b2, f32x4.mul(t, d2));
    b3 = f32x4.add(b3, f32x4.mul(t, d3));
    xp += xStep;
    dyp += dyStep;
  }
  v128.store(acc, a0);
  v128.store(acc, a1, 16);
  v128.store(acc, a2, 32);
  v128.store(acc, a3, 48);
  v128.store(acc + accRow, b0);
  v128.store(acc + accRow, b1, 16);
  v128.store(acc + accRow, b2, 32);
  v128.store(acc + accRow, b3, 48);
}

@inline
function tile16x1(xp: usize, dyp: usize, acc: usize, count: i32, xStep: usize, dyStep: usize): void {
  let a0 = v128.load(acc);
  let a1 = v128.load(acc, 16);
  let a2 = v128.load(acc, 32);
  let a3 = v128.load(acc, 48);
  for (let i = 0; i < count; i++) {
    const s = f32x4.splat(load<f32>(xp));
    a0 = f32x4.add(a0, f32x4.mul(s, v128.load(dyp)));
    a1 = f32x4.add(a1, f32x4.mul(s, v128.load(dyp, 16)));
    a2 = f32x4.add(a2, f32x4.mul(s, v128.load(dyp, 32)));
    a3 = f32x4.add(a3, f32x4.mul(s, v128.load(dyp, 48)));
    xp += xStep;
    dyp += dyStep;
  }
  v128.store(acc, a0);
  v128.store(acc, a1, 16);
  v128.store(acc, a2, 32);
  v128.store(acc, a3, 48);
}

@inline
function tile4x1(xp: usize, dyp: usize, acc: usize, count: i32, xStep: usize, dyStep: usize): void {
  let a0 = v128.load(acc);
  for (let i = 0; i < count; i++) {
    a0 = f32x4.add(a0, f32x4.mul(f32x4.splat(load<f32>(xp)), v128.load(dyp)));
    xp += xStep;
    dyp += dyStep;
  }
  v128.store(acc, a0);
}

/**
 * The gradient of a 2×2 max pool with stride 2 and no padding (NHWC, `c` a multiple of 4): each
 * window's gradient goes to its first maximum in row-major order (as in the tfjs cpu backend and
 * PyTorch); the other three get zero. Rows and columns that no window covers (odd sizes) get zero.
 */
export function maxPool2x2Grad(x: usize, dy: usize, dx: usize, batch: i32, h: i32, w: i32, c: i32): void {
  const ph = h >> 1;
  const pw = w >> 1;
  if ((h & 1) != 0 || (w & 1) != 0) memory.fill(dx, 0, <usize>(batch * h * w * c) << 2);
  const pixel = <usize>c << 2;
  const row = <usize>(w * c) << 2;
  let g = dy;
  for (let n = 0; n < batch; n++) {
    for (let py = 0; py < ph; py++) {
      const offset = (<usize>(n * h + 2 * py) * <usize>w * <usize>c) << 2;
      let p00 = x + offset;
      let q00 = dx + offset;
      for (let px = 0; px < pw; px++) {
        for (let k: usize = 0; k < pixel; k += 16) {
          const i00 = p00 + k;
          const a = v128.load(i00);
          const b = v128.load(i00 + pixel);
          const d = v128.load(i00 + row);
          const e = v128.load(i00 + row + pixel);
          const grad = v128.load(g);
          // First maximum wins: a later candidate replaces the best only if strictly greater.
          const overA = f32x4.gt(b, a);
          const best1 = v128.bitselect(b, a, overA);
          const overB = f32x4.gt(d, best1);
          const best2 = v128.bitselect(d, best1, overB);
          const toE = f32x4.gt(e, best2);
          const toD = v128.andnot(overB, toE);
          const toB = v128.andnot(v128.andnot(overA, overB), toE);
          const toA = v128.not(v128.or(v128.or(overA, overB), toE));
          const j00 = q00 + k;
          v128.store(j00, v128.and(grad, toA));
          v128.store(j00 + pixel, v128.and(grad, toB));
          v128.store(j00 + row, v128.and(grad, toD));
          v128.store(j00 + row + pixel, v128.and(grad, toE));
          g += 16;
        }
        p00 += pixel << 1;
        q00 += pixel << 1;
      }
    }
  }
}

/**
 * c[m, n] = act(Σ_k a(m, k) · b[k, n] + bias[n]) for row-major b (K × N) and c (M × N), where a(m, k)
 * lies at a + 4·(m·sam + k·sak): a row-major A (sam = K, sak = 1) or a transposed one (sam = 1,
 * sak = M). `bias` 0 means none; `relu` 1 clamps at zero (a dense layer's forward pass in one call).
 *
 * For the small products of dense layers XNNPACK's fully-connected operator costs more to set up
 * (operator, weight packing) than to run; this runs straight away. Tiles of 4 rows × 8 columns (eight
 * f32x4 accumulators), then 1 row, then 4 columns, then single columns.
 */
export function matMul(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  sam: i32,
  sak: i32,
  bias: usize,
  relu: i32
): void {
  const rowA = <usize>sam << 2;
  const stepA = <usize>sak << 2;
  const rowB = <usize>n << 2;
  let col = 0;
  for (; col + 8 <= n; col += 8) {
    const bCol = b + (<usize>col << 2);
    let row = 0;
    for (; row + 4 <= m; row += 4) {
      gemm4x8(a + <usize>row * rowA, rowA, stepA, bCol, rowB, c + (<usize>(row * n + col) << 2), rowB, k);
    }
    for (; row < m; row++) gemm1x8(a + <usize>row * rowA, stepA, bCol, rowB, c + (<usize>(row * n + col) << 2), k);
  }
  for (; col + 4 <= n; col += 4) {
    const bCol = b + (<usize>col << 2);
    for (let row = 0; row < m; row++) {
      let ap = a + <usize>row * rowA;
      let bp = bCol;
      let acc = f32x4.splat(0);
      for (let i = 0; i < k; i++) {
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(ap)), v128.load(bp)));
        ap += stepA;
        bp += rowB;
      }
      v128.store(c + (<usize>(row * n + col) << 2), acc);
    }
  }
  for (; col < n; col++) {
    for (let row = 0; row < m; row++) {
      let ap = a + <usize>row * rowA;
      let bp = b + (<usize>col << 2);
      let acc: f32 = 0;
      for (let i = 0; i < k; i++) {
        acc += load<f32>(ap) * load<f32>(bp);
        ap += stepA;
        bp += rowB;
      }
      store<f32>(c + (<usize>(row * n + col) << 2), acc);
    }
  }
  if (bias == 0 && relu == 0) return;
  // The epilogue, over the (cache-warm) output: bias, then the clamp.
  const zero = f32x4.splat(0);
  for (let row = 0; row < m; row++) {
    const cRow = c + (<usize>(row * n) << 2);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let v = v128.load(cRow + (<usize>j << 2));
      if (bias != 0) v = f32x4.add(v, v128.load(bias + (<usize>j << 2)));
      if (relu != 0) v = f32x4.max(v, zero);
      v128.store(cRow + (<usize>j << 2), v);
    }
    for (; j < n; j++) {
      let v = load<f32>(cRow + (<usize>j << 2));
      if (bias != 0) v += load<f32>(bias + (<usize>j << 2));
      if (relu != 0 && !(v > 0)) v = v != v ? v : 0;
      store<f32>(cRow + (<usize>j << 2), v);
    }
  }
}

@inline
function gemm4x8(ap: usize, rowA: usize, stepA: usize, bp: usize, rowB: usize, cp: usize, rowC: usize, k: i32): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let i = 0; i < k; i++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    const s0 = f32x4.splat(load<f32>(ap));
    c00 = f32x4.add(c00, f32x4.mul(s0, b0));
    c01 = f32x4.add(c01, f32x4.mul(s0, b1));
    const s1 = f32x4.splat(load<f32>(ap + rowA));
    c10 = f32x4.add(c10, f32x4.mul(s1, b0));
    c11 = f32x4.add(c11, f32x4.mul(s1, b1));
    const s2 = f32x4.splat(load<f32>(ap + 2 * rowA));
    c20 = f32x4.add(c20, f32x4.mul(s2, b0));
    c21 = f32x4.add(c21, f32x4.mul(s2, b1));
    const s3 = f32x4.splat(load<f32>(ap + 3 * rowA));
    c30 = f32x4.add(c30, f32x4.mul(s3, b0));
    c31 = f32x4.add(c31, f32x4.mul(s3, b1));
    ap += stepA;
    bp += rowB;
  }
  v128.store(cp, c00);
  v128.store(cp, c01, 16);
  v128.store(cp + rowC, c10);
  v128.store(cp + rowC, c11, 16);
  v128.store(cp + 2 * rowC, c20);
  v128.store(cp + 2 * rowC, c21, 16);
  v128.store(cp + 3 * rowC, c30);
  v128.store(cp + 3 * rowC, c31, 16);
}

@inline
function gemm1x8(ap: usize, stepA: usize, bp: usize, rowB: usize, cp: usize, k: i32): void {
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  for (let i = 0; i < k; i++) {
    const s = f32x4.splat(load<f32>(ap));
    c0 = f32x4.add(c0, f32x4.mul(s, v128.load(bp)));
    c1 = f32x4.add(c1, f32x4.mul(s, v128.load(bp, 16)));
    ap += stepA;
    bp += rowB;
  }
  v128.store(cp, c0);
  v128.store(cp, c1, 16);
}

/**
 * The first half of a dense layer's backward pass: the output gradient through the activation
 * (`relu` 1: d = dy where y > 0, else 0, written to `d`; 0: d is dy itself, nothing written) and the
 * bias gradient db[n] = Σ_m d[m, n]. Columns in blocks of 16, then 4, then one, each block's sums kept
 * in registers down all the rows.
 */
export function denseOutputGrad(dy: usize, y: usize, d: usize, db: usize, m: i32, n: i32, relu: i32): void {
  const row = <usize>n << 2;
  let col = 0;
  for (; col + 16 <= n; col += 16) {
    const at = <usize>col << 2;
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    for (let r = 0; r < m; r++) {
      const o = <usize>r * row + at;
      const g0 = outputGrad(dy, y, d, o, relu);
      const g1 = outputGrad(dy, y, d, o + 16, relu);
      const g2 = outputGrad(dy, y, d, o + 32, relu);
      const g3 = outputGrad(dy, y, d, o + 48, relu);
      s0 = f32x4.add(s0, g0);
      s1 = f32x4.add(s1, g1);
      s2 = f32x4.add(s2, g2);
      s3 = f32x4.add(s3, g3);
    }
    v128.store(db + at, s0);
    v128.store(db + at, s1, 16);
    v128.store(db + at, s2, 32);
    v128.store(db + at, s3, 48);
  }
  for (; col + 4 <= n; col += 4) {
    const at = <usize>col << 2;
    let s0 = f32x4.splat(0);
    for (let r = 0; r < m; r++) s0 = f32x4.add(s0, outputGrad(dy, y, d, <usize>r * row + at, relu));
    v128.store(db + at, s0);
  }
  for (; col < n; col++) {
    const at = <usize>col << 2;
    let sum: f32 = 0;
    for (let r = 0; r < m; r++) {
      const o = <usize>r * row + at;
      let g = load<f32>(dy + o);
      if (relu != 0) {
        g = load<f32>(y + o) > 0 ? g : 0;
        store<f32>(d + o, g);
      }
      sum += g;
    }
    store<f32>(db + at, sum);
  }
}

/** Four values of d at byte offset `o` (written to `d` when `relu`). */
@inline
function outputGrad(dy: usize, y: usize, d: usize, o: usize, relu: i32): v128 {
  const g = v128.load(dy + o);
  if (relu == 0) return g;
  const masked = v128.and(g, f32x4.gt(v128.load(y + o), f32x4.splat(0)));
  v128.store(d + o, masked);
  return masked;
}
