/**
 * Which tfjs backend trains a run, and a sentence saying why. Pure: the train worker gathers the probes
 * (availability, adapter, calibrated speed) and this decides, so the rules are tested in Node.
 *
 * Rules, in order:
 * - a backend the user chose in Settings wins whenever it is usable, software adapter or not;
 * - otherwise the fastest calibrated hardware backend wins (wasm and cpu count as hardware here);
 *   timings within {@link TIE_TOLERANCE} of the fastest are ties, broken by webgpu > webgl > wasm > cpu;
 * - a software WebGPU/WebGL adapter (SwiftShader, llvmpipe) never wins over wasm or a hardware backend:
 *   it is not even calibrated by default because each of its shaders takes about a second to compile;
 * - uncalibrated backends rank after calibrated ones, in preference order: a measurement beats a guess.
 */
import { LatheError } from '../errors';
import { BACKENDS, type BackendName } from '../records';

export interface BackendProbe {
  name: BackendName;
  available: boolean;
  /** Why it cannot be used, for people: "navigator.gpu is missing", "no WebGL2 context". */
  reasonUnavailable?: string;
  /** A CPU rasteriser behind a GPU API (WebGPU fallback adapter, SwiftShader, llvmpipe). */
  isSoftware: boolean;
  /** The rasteriser's name when {@link isSoftware}, e.g. "SwiftShader"; named in the reason. */
  softwareName?: string;
  /** Median milliseconds per calibration step; absent when not calibrated. */
  msPerStep?: number;
  supportsConvGradients: boolean;
}

export interface BackendRequirements {
  /**
   * The model needs convolution or embedding gradient kernels (Conv2DBackpropFilter, UnsortedSegmentSum),
   * which stock tfjs-backend-wasm lacks (`wasm-training-kernels.ts` adds them). Probes report them as
   * `supportsConvGradients`.
   */
  needsConvGradients: boolean;
  /** What those kernels are for, for the reason shown on the run ("convolution", "embedding"). */
  kernels?: string;
}

/**
 * - `chosen`: trains the run;
 * - `candidate`: usable, ranked after the chosen one;
 * - `software`: usable but a software adapter, only used when chosen in Settings;
 * - `unsupported`: available but lacks what this model needs;
 * - `unavailable`: not present in this browser.
 */
export type BackendVerdict = 'chosen' | 'candidate' | 'software' | 'unsupported' | 'unavailable';

export interface RankedBackend {
  name: BackendName;
  verdict: BackendVerdict;
  msPerStep?: number;
  /** A short phrase for a settings table: "3.1 ms/step", "software adapter (SwiftShader)". */
  note: string;
}

export interface BackendChoice {
  backend: BackendName;
  reason: string;
  /** Every backend, best first: usable ones in the order they would be tried, then the rest. */
  ranking: RankedBackend[];
}

/** Calibration runs a handful of steps, so differences under 5% are noise, not speed. */
export const TIE_TOLERANCE = 0.05;

const DISPLAY_NAMES: Record<BackendName, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WebAssembly',
  cpu: 'the CPU backend'
};

function preference(name: BackendName): number {
  return BACKENDS.indexOf(name);
}

export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

function speed(probe: BackendProbe): string {
  return probe.msPerStep === undefined ? 'not calibrated' : `${formatMs(probe.msPerStep)}/step`;
}

function softwareLabel(probe: BackendProbe): string {
  return probe.softwareName ? `a software adapter (${probe.softwareName})` : 'a software adapter';
}

function isCalibrated(probe: BackendProbe): probe is BackendProbe & { msPerStep: number } {
  return probe.msPerStep !== undefined && Number.isFinite(probe.msPerStep) && probe.msPerStep > 0;
}

/**
 * Orders usable probes: calibrated by speed (the most preferred of the ones tied with the fastest
 * first), then uncalibrated by preference.
 */
function orderBySpeed(probes: BackendProbe[]): BackendProbe[] {
  const byPreference = (a: BackendProbe, b: BackendProbe) => preference(a.name) - preference(b.name);
  const calibrated = probes
    .filter(isCalibrated)
    .sort((a, b) => a.msPerStep - b.msPerStep || byPreference(a, b));
  const uncalibrated = probes.filter((p) => !isCalibrated(p)).sort(byPreference);
  const fastest = calibrated[0];
  if (fastest) {
    const tied = calibrated.filter((p) => p.msPerStep <= fastest.msPerStep * (1 + TIE_TOLERANCE));
    const winner = [...tied].sort(byPreference)[0] ?? fastest;
    return [winner, ...calibrated.filter((p) => p !== winner), ...uncalibrated];
  }
  return uncalibrated;
}

function listWithAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Why the automatically chosen backend won, leading with its name. */
function automaticReason(winner: BackendProbe, usable: BackendProbe[]): string {
  if (winner.isSoftware) {
    return `${winner.name}: ${speed(winner)}; the only usable backend is ${softwareLabel(winner)}`;
  }
  if (!isCalibrated(winner)) {
    const order = BACKENDS.join(' > ');
    return `${winner.name}: first usable backend in the order ${order} (not calibrated)`;
  }
  const others = usable.filter((p) => p !== winner && !p.isSoftware && isCalibrated(p));
  if (others.length === 0) return `${winner.name}: ${speed(winner)}, the only calibrated backend`;
  const faster = others.filter((p) => isCalibrated(p) && p.msPerStep < winner.msPerStep);
  if (faster.length > 0) {
    const rivals = faster.map((p) => `${p.name} (${speed(p)})`);
    return (
      `${winner.name}: ${speed(winner)}, within ${Math.round(TIE_TOLERANCE * 100)}% of ` +
      `${listWithAnd(rivals)}; ${winner.name} is preferred on ties`
    );
  }
  return `${winner.name}: ${speed(winner)}, faster than ${listWithAnd(others.map((p) => `${p.name} (${speed(p)})`))}`;
}

/** Notes on backends more preferred than the winner that were passed over for another reason than speed. */
function passedOverNotes(
  winner: BackendName,
  probes: BackendProbe[],
  requirements: BackendRequirements,
  override: BackendName | null
): string[] {
  const notes: string[] = [];
  for (const probe of probes) {
    if (probe.name === override) continue;
    if (preference(probe.name) >= preference(winner)) continue;
    const name = DISPLAY_NAMES[probe.name];
    if (!probe.available) {
      notes.push(`${name} is not available${probe.reasonUnavailable ? ` (${probe.reasonUnavailable})` : ''}`);
    } else if (requirements.needsConvGradients && !probe.supportsConvGradients) {
      notes.push(`${name} lacks the ${requirements.kernels ?? 'convolution'} gradients this model needs`);
    } else if (probe.isSoftware) {
      notes.push(`${name} is ${softwareLabel(probe)} and is not used unless chosen in Settings`);
    }
  }
  return notes;
}

function verdictNote(probe: BackendProbe, verdict: BackendVerdict): string {
  switch (verdict) {
    case 'unavailable':
      return probe.reasonUnavailable ? `not available: ${probe.reasonUnavailable}` : 'not available';
    case 'unsupported':
      return 'lacks convolution gradients';
    case 'software':
      return `${softwareLabel(probe)}, ${speed(probe)}`;
    default:
      return probe.isSoftware ? `${softwareLabel(probe)}, ${speed(probe)}` : speed(probe);
  }
}

export function chooseBackend(
  probes: ReadonlyArray<BackendProbe>,
  requirements: BackendRequirements,
  override: BackendName | null = null
): BackendChoice {
  // Exactly one probe per backend: a missing probe is an unavailable backend, a duplicate is ignored.
  const all = BACKENDS.map(
    (name): BackendProbe =>
      probes.find((p) => p.name === name) ?? {
        name,
        available: false,
        reasonUnavailable: 'not probed',
        isSoftware: false,
        supportsConvGradients: false
      }
  );
  const supported = (p: BackendProbe) => !requirements.needsConvGradients || p.supportsConvGradients;
  const usable = all.filter((p) => p.available && supported(p));
  const automatic = [
    ...orderBySpeed(usable.filter((p) => !p.isSoftware)),
    ...orderBySpeed(usable.filter((p) => p.isSoftware))
  ];

  const overridden = override ? usable.find((p) => p.name === override) : undefined;
  const winner = overridden ?? automatic[0];
  if (!winner) {
    const why = all.map((p) => `${p.name}: ${verdictNote(p, p.available ? 'unsupported' : 'unavailable')}`);
    throw new LatheError('no_backend', `No training backend works in this browser (${why.join('; ')}).`);
  }

  const clauses: string[] = [];
  if (overridden) {
    const details = [
      isCalibrated(overridden) ? speed(overridden) : null,
      overridden.isSoftware ? `${overridden.softwareName ?? 'a'} software adapter` : null
    ]
      .filter((d): d is string => d !== null)
      .join(', ');
    clauses.push(`${overridden.name}: chosen in Settings${details ? ` (${details})` : ''}`);
    const auto = automatic[0];
    if (auto && auto !== overridden) {
      clauses.push(
        `the automatic choice would be ${auto.name}${isCalibrated(auto) ? ` (${speed(auto)})` : ''}`
      );
    }
  } else {
    clauses.push(automaticReason(winner, usable));
    if (override) {
      const wanted = all.find((p) => p.name === override);
      const why =
        wanted && !wanted.available
          ? (wanted.reasonUnavailable ?? 'not available')
          : 'lacks what this model needs';
      clauses.push(`${DISPLAY_NAMES[override]} was chosen in Settings but cannot be used (${why})`);
    }
  }
  clauses.push(...passedOverNotes(winner.name, all, requirements, override));

  const ordered = [winner, ...automatic.filter((p) => p !== winner)];
  const ranking: RankedBackend[] = [
    ...ordered.map((p): RankedBackend => {
      const verdict: BackendVerdict = p === winner ? 'chosen' : p.isSoftware ? 'software' : 'candidate';
      return { name: p.name, verdict, msPerStep: p.msPerStep, note: verdictNote(p, verdict) };
    }),
    ...all
      .filter((p) => !usable.includes(p))
      .map((p): RankedBackend => {
        const verdict: BackendVerdict = p.available ? 'unsupported' : 'unavailable';
        return { name: p.name, verdict, msPerStep: p.msPerStep, note: verdictNote(p, verdict) };
      })
  ];
  return { backend: winner.name, reason: clauses.join('; '), ranking };
}
