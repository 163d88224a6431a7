/**
 * Lathe's own wasm SIMD kernels (AssemblyScript in `assembly/training-kernels.ts`), instantiated on
 * tfjs-backend-wasm's own memory so they work on tensors in place: pointers are byte offsets into the
 * tfjs heap, as `typedArrayFromHeap(...).byteOffset` gives them.
 */
import { TRAINING_KERNELS_SHARED_WASM, TRAINING_KERNELS_WASM } from './training-kernels.wasm';

export interface SimdKernels {
  conv2dFilterGrad(
    x: number,
    dy: number,
    dw: number,
    batch: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    co: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number
  ): void;
  maxPool2x2Grad(x: number, dy: number, dx: number, batch: number, h: number, w: number, c: number): void;
  matMul(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    sam: number,
    sak: number,
    bias: number,
    relu: number
  ): void;
  denseOutputGrad(dy: number, y: number, d: number, db: number, m: number, n: number, relu: number): void;
}

/** The part of tfjs-backend-wasm's Emscripten module that holds its memory. */
interface EmscriptenModule {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Whether this engine can compile the kernels (wasm SIMD), before any memory is at hand. */
export function simdKernelsSupported(): boolean {
  try {
    return WebAssembly.validate(decode(TRAINING_KERNELS_WASM));
  } catch {
    return false;
  }
}

/**
 * The kernels bound to `module`'s memory, or null where they cannot run (an engine without wasm SIMD, a
 * memory this build does not expose); callers then keep to tfjs's kernels.
 */
export function simdKernelsFor(module: EmscriptenModule): SimdKernels | null {
  const memory = module.asm?.memory ?? module.wasmMemory;
  if (!memory) return null;
  const known = instances.get(memory);
  if (known !== undefined) return known;
  let kernels: SimdKernels | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = decode(shared ? TRAINING_KERNELS_SHARED_WASM : TRAINING_KERNELS_WASM);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    kernels = instance.exports as unknown as SimdKernels;
  } catch {
    kernels = null;
  }
  instances.set(memory, kernels);
  return kernels;
}
