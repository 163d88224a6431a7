/**
 * Recognising software GPU adapters. Browsers on machines without a usable GPU (CI, VMs, blocklisted
 * drivers) hand out a CPU rasteriser that speaks WebGPU or WebGL: it works, but every shader compiles
 * for about a second and kernels run slower than the wasm backend, so the chooser must know.
 */

const SOFTWARE_RENDERERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/softpipe/i, 'softpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/microsoft basic render/i, 'Microsoft Basic Render Driver'],
  [/\bwarp\b/i, 'WARP']
];

/** The name of the software rasteriser behind an adapter or renderer string, or null for hardware. */
export function softwareRendererName(
  ...descriptions: ReadonlyArray<string | null | undefined>
): string | null {
  for (const text of descriptions) {
    if (!text) continue;
    for (const [pattern, name] of SOFTWARE_RENDERERS) {
      if (pattern.test(text)) return name;
    }
  }
  return null;
}
