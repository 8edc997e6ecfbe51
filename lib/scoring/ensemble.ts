/**
 * Reward-model ensembles (SPEC.md §2.3): K members' scores [K,B] → one score per response [B].
 * Sources: Coste et al. `src/bon/ensemble_rm.py` and `ppo_reward_functions.py` (mean, WCO = min,
 * UWO = mean − c·var), RewardBench `analysis/run_ensemble_offline.py` (per-model z-normalisation,
 * Mean / Worst / Uncertainty = mean − std), Eisenstein et al. (median, mean − λ·std).
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, checkSize, toFloat32 } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { outArray } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { ensembleJs } from './ensemble.ref.js';
import { ensembleNative } from './ensemble.native.js';
import { ensembleWebgpu } from './ensemble.gpu.js';

export type EnsembleMethod = 'mean' | 'min' | 'max' | 'median' | 'uwo' | 'meanMinusStd';
export const ensembleMethods: readonly EnsembleMethod[] = ['mean', 'min', 'max', 'median', 'uwo', 'meanMinusStd'];
export type EnsemblePreset = 'coste-bon' | 'coste-ppo' | 'rewardbench-mean' | 'rewardbench-worst' | 'rewardbench-uncertainty';

/** Largest ensemble the kernels hold in registers (SPEC.md §2.2: K up to 16). */
export const MAX_MEMBERS = 64;

export interface EnsembleOptions {
  /** Member scores, row-major [K, B]: row k holds model k's score for each of the B responses. */
  scores: Float32Array | Float64Array | number[];
  /** [K, B]. */
  shape: readonly [number, number];
  /** Aggregation (default 'mean'; a preset sets it). */
  method?: EnsembleMethod;
  /** Named settings of the reference implementations; explicit options override them. */
  preset?: EnsemblePreset;
  /** UWO coefficient on the variance (default 1: Coste et al.'s function default; their BoN runs use 0.5, PPO 0.1). */
  c?: number;
  /** Variance / std degrees of freedom: 0 (numpy, default) or 1 (torch.var, Coste et al.'s PPO path). */
  ddof?: 0 | 1;
  /** meanMinusStd coefficient (default 1: RewardBench's Uncertainty). */
  lambda?: number;
  /** z-normalise each model over its B scores first (RewardBench; population std; std 0 divides by 1). */
  zNormalize?: boolean;
  backend?: Backend;
  /** Where to write the [B] result. */
  out?: Float32Array;
  context?: GpuContext;
}

export interface EnsembleResult {
  /** The aggregated score per response [B]. */
  scores: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

export interface EnsembleProblem {
  members: number; // K
  rows: number; // B
  scores: Float32Array; // [K*B]
  method: EnsembleMethod;
  c: number;
  ddof: 0 | 1;
  lambda: number;
  zNormalize: boolean;
  out: Float32Array;
}

export const ensemblePresets: Record<EnsemblePreset, { method: EnsembleMethod; c?: number; ddof?: 0 | 1; lambda?: number; zNormalize?: boolean }> = {
  'coste-bon': { method: 'uwo', c: 0.5, ddof: 0 }, // run_bon default uwo_weights=[0.5], np.var
  'coste-ppo': { method: 'uwo', c: 0.1, ddof: 1 }, // configs/config_rl.yaml uwo_weight 0.1, torch.var
  'rewardbench-mean': { method: 'mean', zNormalize: true },
  'rewardbench-worst': { method: 'min', zNormalize: true },
  'rewardbench-uncertainty': { method: 'meanMinusStd', lambda: 1, ddof: 0, zNormalize: true },
};

export function prepareEnsemble(options: EnsembleOptions): EnsembleProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const preset = options.preset === undefined ? undefined
    : ensemblePresets[checkEnum(options.preset, 'preset', Object.keys(ensemblePresets) as EnsemblePreset[])];
  const method = checkEnum(options.method ?? preset?.method ?? 'mean', 'method', ensembleMethods);
  const shape = options.shape;
  if (!Array.isArray(shape) || shape.length !== 2) fail('E_SHAPE', 'shape', '[K, B]', describe(shape));
  const members = checkSize(shape[0], 'shape[0]', 1);
  const rows = checkSize(shape[1], 'shape[1]', 1);
  if (members > MAX_MEMBERS) fail('E_RANGE', 'shape[0]', `at most ${MAX_MEMBERS} ensemble members`, `${members}`);
  if (members * rows > 2 ** 32 - 1) fail('E_RANGE', 'shape', 'K*B < 2^32', `${members}*${rows}`);
  const scores = toFloat32(options.scores, 'scores');
  if (scores.length !== members * rows) fail('E_SHAPE', 'scores', `length K*B = ${members}*${rows} = ${members * rows}`, `length ${scores.length}`);
  const c = checkFinite(options.c ?? preset?.c ?? 1, 'c');
  const lambda = checkFinite(options.lambda ?? preset?.lambda ?? 1, 'lambda');
  const ddof = options.ddof ?? preset?.ddof ?? 0;
  if (ddof !== 0 && ddof !== 1) fail('E_VALUE', 'ddof', '0 or 1', describe(ddof));
  const zNormalize = options.zNormalize ?? preset?.zNormalize ?? false;
  if (typeof zNormalize !== 'boolean') fail('E_VALUE', 'zNormalize', 'a boolean', describe(zNormalize));
  return { members, rows, scores, method, c, ddof, lambda, zNormalize, out: outArray(options.out, 'out', rows) };
}

/**
 * Aggregate K members' scores per response. NaN in any member makes that response's result NaN
 * (numpy's mean/min/median propagate it); K = 1 with ddof 1 gives NaN variance, as torch.var does.
 */
export async function aggregateEnsemble(options: EnsembleOptions): Promise<EnsembleResult> {
  const p = prepareEnsemble(options);
  return runOp<EnsembleResult>('aggregateEnsemble', options.backend, p.members * p.rows, {
    js: async () => { ensembleJs(p); return { scores: p.out, backend: 'js' as const }; },
    native: async () => { await ensembleNative(p); return { scores: p.out, backend: 'native' as const }; },
    webgpu: async () => { await ensembleWebgpu(p, options.context); return { scores: p.out, backend: 'webgpu' as const }; },
  });
}
