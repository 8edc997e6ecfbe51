/**
 * Potential-based shaping and Robo-Dopamine progress (SPEC.md §2.6) over ragged trajectories (CSR
 * offsets [B+1] into the per-step arrays).
 * - potentialShaping: r'_t = r_t + γ·Φ(s_{t+1}) − Φ(s_t) (Ng et al. 1999: leaves optimal policies unchanged).
 * - dopamineProgress: Robo-Dopamine's hop → progress reconstruction (FlagOpen/Robo-Dopamine
 *   eval/evaluation_api.py and examples/inference.py post-processing).
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, checkOffsets, toFloat32 } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { floatsOf, outArray } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { dopamineJs, pbrsJs } from './pbrs.ref.js';
import { dopamineNative, pbrsNative } from './pbrs.native.js';
import { dopamineWebgpu, pbrsWebgpu } from './pbrs.gpu.js';

export interface PotentialShapingOptions {
  /** Step rewards of every trajectory, concatenated [N]. */
  rewards: Float32Array | Float64Array | number[];
  /** CSR offsets [B+1] into `rewards`. */
  offsets: Uint32Array | Int32Array | number[];
  /**
   * Φ of every state: [N + B] (each trajectory of T steps lists T+1 states s_0..s_T), or [N] (s_0..s_{T−1};
   * the final state's potential is 0, the condition for policy invariance in episodic tasks).
   */
  potentials: Float32Array | Float64Array | number[];
  /** Discount γ (default 1). */
  gamma?: number;
  backend?: Backend;
  out?: Float32Array;
  context?: GpuContext;
}

export type ProgressMode = 'incremental' | 'forward' | 'backward';

export interface DopamineOptions {
  /** GRM outputs in [−1, 1] (the parsed percentage / 100) for each step of each trajectory [N]. */
  hops: Float32Array | Float64Array | number[];
  offsets: Uint32Array | Int32Array | number[];
  /**
   * incremental: p ← p + (1−p)h for h >= 0, p + p·h for h < 0, from p₀ = 0 (evaluation_api.py);
   * forward: p = h (start → current); backward: p = 1 + h (goal → current) (examples/inference.py).
   */
  mode?: ProgressMode;
  /** incremental only: walk each trajectory from its last hop backward starting at p₀ = 1 (evaluation_api.py inverse=True). */
  inverse?: boolean;
  /** incremental only: the first progress is the first hop as is (examples/inference.py; differs from the recurrence when it is < 0). */
  rawFirst?: boolean;
  backend?: Backend;
  out?: Float32Array;
  context?: GpuContext;
}

export interface PbrsProblem {
  rows: number;
  steps: number;
  rewards: Float32Array;
  offsets: Uint32Array;
  potentials: Float32Array;
  /** Whether potentials hold each trajectory's final state (length N + B). */
  withFinal: boolean;
  gamma: number;
  out: Float32Array;
}

export interface DopamineProblem {
  rows: number;
  steps: number;
  hops: Float32Array;
  offsets: Uint32Array;
  mode: ProgressMode;
  inverse: boolean;
  rawFirst: boolean;
  out: Float32Array;
}

const checkOptions = (o: unknown) => { if (o === null || typeof o !== 'object') fail('E_VALUE', 'options', 'an options object', describe(o)); };

export function preparePbrs(o: PotentialShapingOptions): PbrsProblem {
  checkOptions(o);
  const rewards = toFloat32(o.rewards, 'rewards');
  const offsets = checkOffsets(o.offsets, 'offsets');
  const B = offsets.length - 1, N = rewards.length;
  if (offsets[B] !== N) fail('E_SHAPE', 'rewards', `length offsets[B] = ${offsets[B]}`, `length ${N}`);
  const potentials = toFloat32(o.potentials, 'potentials');
  if (potentials.length !== N && potentials.length !== N + B) {
    fail('E_SHAPE', 'potentials', `length N + B = ${N + B} (with each final state) or N = ${N} (final potential 0)`, `length ${potentials.length}`);
  }
  return { rows: B, steps: N, rewards, offsets, potentials, withFinal: potentials.length === N + B && B > 0, gamma: checkFinite(o.gamma ?? 1, 'gamma'), out: outArray(o.out, 'out', N) };
}

export function prepareDopamine(o: DopamineOptions): DopamineProblem {
  checkOptions(o);
  const offsets = checkOffsets(o.offsets, 'offsets');
  const N = offsets[offsets.length - 1]!;
  const hops = floatsOf(o.hops, 'hops', N, 'one hop per step: offsets[B]');
  const mode = checkEnum(o.mode ?? 'incremental', 'mode', ['incremental', 'forward', 'backward'] as const);
  const flag = (v: unknown, arg: string) => { if (v === undefined) return false; if (typeof v !== 'boolean') fail('E_VALUE', arg, 'a boolean', describe(v)); return v; };
  const inverse = flag(o.inverse, 'inverse'), rawFirst = flag(o.rawFirst, 'rawFirst');
  if ((inverse || rawFirst) && mode !== 'incremental') fail('E_VALUE', inverse ? 'inverse' : 'rawFirst', "mode 'incremental'", `mode '${mode}'`);
  return { rows: offsets.length - 1, steps: N, hops, offsets, mode, inverse, rawFirst, out: outArray(o.out, 'out', N) };
}

/** Potential-based shaping of step rewards: [N] → [N]. */
export async function potentialShaping(options: PotentialShapingOptions): Promise<{ rewards: Float32Array; backend: 'js' | 'native' | 'webgpu' }> {
  const p = preparePbrs(options);
  return runOp<{ rewards: Float32Array; backend: 'js' | 'native' | 'webgpu' }>('potentialShaping', options.backend, p.steps + p.rows, {
    js: async () => { pbrsJs(p); return { rewards: p.out, backend: 'js' as const }; },
    native: async () => { await pbrsNative(p); return { rewards: p.out, backend: 'native' as const }; },
    webgpu: async () => { await pbrsWebgpu(p, options.context); return { rewards: p.out, backend: 'webgpu' as const }; },
  });
}

/** Robo-Dopamine progress per step from hop predictions: [N] → [N] (use it as Φ for potentialShaping). */
export async function dopamineProgress(options: DopamineOptions): Promise<{ progress: Float32Array; backend: 'js' | 'native' | 'webgpu' }> {
  const p = prepareDopamine(options);
  return runOp<{ progress: Float32Array; backend: 'js' | 'native' | 'webgpu' }>('dopamineProgress', options.backend, p.steps + p.rows, {
    js: async () => { dopamineJs(p); return { progress: p.out, backend: 'js' as const }; },
    native: async () => { await dopamineNative(p); return { progress: p.out, backend: 'native' as const }; },
    webgpu: async () => { await dopamineWebgpu(p, options.context); return { progress: p.out, backend: 'webgpu' as const }; },
  });
}
