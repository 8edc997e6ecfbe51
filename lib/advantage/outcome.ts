/**
 * Outcome advantage estimators (SPEC.md §1.1) behind one op with a registry by name, as verl's
 * `register_adv_est` / `get_adv_estimator_fn`: a score per row (or token-level rewards summed per
 * row, unmasked as verl does) → an advantage per row → broadcast to the row's trained tokens.
 *
 * `grpo`, `dr_grpo` and `trl_grpo` delegate to `grpoAdvantages`; every other estimator runs here on
 * js (outcome.ref.ts), native (native/outcome.cc) or webgpu (outcome.gpu.ts).
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, toFloat32, type IndexArray } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { denseGroups, outArray, prepareLayout, type MaskInput, type TokenLayout } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { grpoAdvantages, type GrpoScale } from './grpo.js';
import { outcomeJs, rowScoresOf } from './outcome.ref.js';
import { outcomeNative } from './outcome.native.js';
import { outcomeWebgpu } from './outcome.gpu.js';

export type OutcomePreset = 'verl' | 'trl' | 'openrlhf';

/** The estimators implemented on every backend, with the code the native and GPU kernels switch on. */
export const builtinCodes = {
  grpo_vectorized: 0, rloo: 1, rloo_vectorized: 2, reinforce_plus_plus_baseline: 3, gpg: 4, opo: 5, grpo_passk: 6, group_norm: 7,
} as const;
export type BuiltinEstimator = keyof typeof builtinCodes;

/** What a custom (JS-only) estimator receives: f64 row scores and the grouping. */
export interface OutcomeRowInput {
  /** s_i per row (f32 values held in f64). */
  scores: Float64Array;
  /** Dense group id per row, 0..numGroups−1 in order of first appearance. */
  groupIds: Uint32Array;
  numGroups: number;
  /** Trained tokens per row (Σ_t M[i,t]). */
  lengths: Float64Array;
  epsilon: number;
}
export type CustomEstimator = (input: OutcomeRowInput) => ArrayLike<number>;

interface RegistryEntry {
  /** Default epsilon of the estimator (the reference implementation's). */
  epsilon: number;
  /** Where it comes from, for docs and messages. */
  source: string;
  kind: 'grpo' | 'builtin' | 'custom';
  custom?: CustomEstimator;
}

const registry = new Map<string, RegistryEntry>([
  ['grpo', { epsilon: 1e-6, source: 'verl compute_grpo_outcome_advantage', kind: 'grpo' }],
  ['dr_grpo', { epsilon: 1e-6, source: 'verl compute_grpo_outcome_advantage, norm_adv_by_std_in_grpo=False', kind: 'grpo' }],
  ['trl_grpo', { epsilon: 1e-4, source: 'TRL GRPOTrainer', kind: 'grpo' }],
  ['grpo_vectorized', { epsilon: 1e-6, source: 'verl compute_grpo_vectorized_outcome_advantage', kind: 'builtin' }],
  ['group_norm', { epsilon: 1e-9, source: "OpenRLHF advantage_estimator='group_norm'", kind: 'builtin' }],
  ['rloo', { epsilon: 1e-6, source: 'verl compute_rloo_outcome_advantage', kind: 'builtin' }],
  ['rloo_vectorized', { epsilon: 1e-6, source: 'verl compute_rloo_vectorized_outcome_advantage', kind: 'builtin' }],
  ['reinforce_plus_plus_baseline', { epsilon: 1e-6, source: 'verl compute_reinforce_plus_plus_baseline_outcome_advantage', kind: 'builtin' }],
  ['gpg', { epsilon: 1e-6, source: 'verl compute_gpg_outcome_advantage', kind: 'builtin' }],
  ['opo', { epsilon: 1e-6, source: 'verl compute_opo_outcome_advantage', kind: 'builtin' }],
  ['grpo_passk', { epsilon: 1e-6, source: 'verl compute_grpo_passk_outcome_advantage', kind: 'builtin' }],
]);

/**
 * Register a custom outcome estimator (JS only: it runs on the js backend whatever `backend` says,
 * and the result reports `backend: 'js'`). As verl's register_adv_est, a name already taken is an error.
 */
export function registerOutcomeEstimator(name: string, estimator: CustomEstimator, options: { epsilon?: number; source?: string } = {}): void {
  if (typeof name !== 'string' || name === '') fail('E_VALUE', 'name', 'a non-empty string', describe(name));
  if (registry.has(name)) fail('E_VALUE', 'name', `a name not yet registered (known: ${[...registry.keys()].join(', ')})`, `'${name}'`);
  if (typeof estimator !== 'function') fail('E_VALUE', 'estimator', 'a function (input) => row advantages', describe(estimator));
  const epsilon = options.epsilon === undefined ? 1e-6 : checkFinite(options.epsilon, 'options.epsilon');
  registry.set(name, { epsilon, source: options.source ?? 'custom', kind: 'custom', custom: estimator });
}

/** The registered estimator names (built-in first, then custom ones in order of registration). */
export function outcomeEstimators(): string[] {
  return [...registry.keys()];
}

export const outcomePresets: Record<OutcomePreset, { estimator: string }> = {
  verl: { estimator: 'grpo' },
  trl: { estimator: 'trl_grpo' },
  openrlhf: { estimator: 'group_norm' },
};

export interface OutcomeOptions {
  /** A registered estimator name (see `outcomeEstimators()`); default by preset: grpo / trl_grpo / group_norm. */
  estimator?: string;
  /** Per-row scores [B], or token-level rewards [tokens] summed per row (every token, as verl does). */
  scores: Float32Array | Float64Array | number[];
  /** Padded: the response mask [B·T] (u8/bool, f32 or i32; nonzero = trained). Packed: optional, [offsets[B]]. */
  mask?: MaskInput;
  /** Padded layout: [B, T]. */
  shape?: readonly [number, number];
  /** Packed layout: CSR row offsets [B+1]. */
  offsets?: IndexArray;
  /** Integer group labels per row (any order), or contiguous groups of `size` rows. */
  groups: IndexArray | { size: number };
  /** When given, labels must lie in [0, numGroups). */
  numGroups?: number;
  /** Whether `scores` are per row or per token; inferred from the length unless ambiguous. */
  scoreLevel?: 'row' | 'token';
  /** Token-level scores: sum only trained tokens (default false: verl sums every token). */
  sumMasked?: boolean;
  /** `verl` (default), `trl` or `openrlhf`: picks the default estimator. */
  preset?: OutcomePreset;
  /** Added to the std; default the estimator's (verl 1e-6, TRL 1e-4, OpenRLHF group_norm 1e-9). */
  epsilon?: number;
  /** verl norm_adv_by_std_in_grpo for grpo, grpo_vectorized, grpo_passk (default true). */
  normByStd?: boolean;
  /** trl_grpo's scale_rewards: 'group' (default), 'batch' or 'none'. */
  scale?: GrpoScale;
  /** gpg's f_norm (default 1). */
  fNorm?: number;
  /** group_norm: advantages clamped to [−clip, clip] (OpenRLHF reward_clip_range, default 10; Infinity = off). */
  clip?: number;
  backend?: Backend;
  /** Arrays to write into: tokens and B long. */
  out?: { tokenAdvantages?: Float32Array; rowAdvantages?: Float32Array };
  context?: GpuContext;
}

export interface OutcomeResult {
  /** Advantages per token [tokens], 0 on untrained tokens. */
  tokenAdvantages: Float32Array;
  /** verl's `returns`: the same array as tokenAdvantages for every outcome estimator. */
  returns: Float32Array;
  /** Advantage per row [B] (the value on the row's trained tokens). */
  rowAdvantages: Float32Array;
  estimator: string;
  backend: 'js' | 'native' | 'webgpu';
}

/** The validated problem every backend of the non-delegating estimators receives. */
export interface OutcomeProblem {
  layout: TokenLayout;
  scores: Float32Array;
  tokenScores: boolean;
  sumMasked: boolean;
  groupIds: Uint32Array;
  numGroups: number;
  /** Rows per group. */
  groupSizes: Uint32Array;
  estimator: string;
  entry: RegistryEntry;
  epsilon: number;
  normByStd: boolean;
  fNorm: number;
  clip: number;
  outTokens: Float32Array;
  outRows: Float32Array;
}

/** What a backend reports besides its outputs. */
export interface OutcomeRaw {
  /** First row whose token-level score sum is not finite, or −1. */
  badRow: number;
  badValue: number;
  /** Trained tokens in the batch (reinforce_plus_plus_baseline needs more than one; NaN where not counted). */
  trained: number;
}

function flag(value: unknown, argument: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail('E_VALUE', argument, 'a boolean', describe(value));
  return value;
}

/** The estimator named by the options (or the preset's default), checked against the registry. */
export function estimatorOf(options: { estimator?: unknown; preset?: unknown }): { name: string; entry: RegistryEntry } {
  const preset = checkEnum(options.preset ?? 'verl', 'preset', ['verl', 'trl', 'openrlhf'] as const);
  const name = options.estimator ?? outcomePresets[preset].estimator;
  const entry = typeof name === 'string' ? registry.get(name) : undefined;
  if (!entry) fail('E_VALUE', 'estimator', `a registered estimator (one of ${[...registry.keys()].map((k) => `'${k}'`).join(', ')})`, describe(name));
  return { name: name as string, entry };
}

/** Token-level or row-level scores, from the length unless `scoreLevel` says. */
export function scoreLevelOf(scores: Float32Array, layout: TokenLayout, scoreLevel: unknown): boolean {
  const { rows, tokens } = layout;
  if (scoreLevel !== undefined) {
    const token = checkEnum(scoreLevel, 'scoreLevel', ['row', 'token'] as const) === 'token';
    const want = token ? tokens : rows;
    if (scores.length !== want) fail('E_SHAPE', 'scores', `length ${want} (scoreLevel '${scoreLevel}')`, `length ${scores.length}`);
    return token;
  }
  if (scores.length === rows && scores.length === tokens) {
    // Padded T = 1 reads the same either way; packed rows of one token each too.
    for (let i = 0; i < rows; i++) if (layout.offsets[i + 1]! - layout.offsets[i]! !== 1) {
      fail('E_VALUE', 'scoreLevel', `'row' or 'token' (scores has length ${rows} = B = tokens, so both readings fit)`, 'undefined');
    }
    return false;
  }
  if (scores.length === rows) return false;
  if (scores.length === tokens) return true;
  return fail('E_SHAPE', 'scores', `length B = ${rows} (per row) or ${tokens} (per token)`, `length ${scores.length}`);
}

export function badScore(row: number, value: number, tokenLevel: boolean, sumMasked: boolean): never {
  const argument = tokenLevel ? `scores (tokens of row ${row}${sumMasked ? ', masked' : ', all summed as verl does; sumMasked: true skips padding'})` : `scores[${row}]`;
  fail('E_VALUE', argument, `a finite number as the score of row ${row}`, describe(value));
}

/** Validate and normalise the options of a non-delegating estimator. */
export function prepareOutcome(options: OutcomeOptions, name: string, entry: RegistryEntry): OutcomeProblem {
  const layout = prepareLayout(options);
  const scores = toFloat32(options.scores, 'scores');
  const tokenScores = scoreLevelOf(scores, layout, options.scoreLevel);
  const sumMasked = flag(options.sumMasked, 'sumMasked', false);
  const epsilon = options.epsilon === undefined ? entry.epsilon : checkFinite(options.epsilon, 'epsilon');
  if (epsilon < 0) fail('E_VALUE', 'epsilon', 'a finite number >= 0', describe(epsilon));
  const normByStd = flag(options.normByStd, 'normByStd', true);
  const fNorm = options.fNorm === undefined ? 1 : checkFinite(options.fNorm, 'fNorm');
  if (fNorm === 0) fail('E_VALUE', 'fNorm', 'a finite nonzero number', '0');
  let clip = 10;
  if (options.clip !== undefined) {
    if (typeof options.clip !== 'number' || !(options.clip > 0)) fail('E_VALUE', 'clip', 'a number > 0 (Infinity: no clamp)', describe(options.clip));
    clip = options.clip;
  }
  const { ids, count } = denseGroups(options.groups, options.numGroups, layout.rows);
  const groupSizes = new Uint32Array(count);
  for (let i = 0; i < ids.length; i++) groupSizes[ids[i]!]!++;
  // Estimators undefined on groups of one raise as their reference implementations do.
  if (name === 'grpo_passk' || name === 'group_norm') {
    for (let g = 0; g < count; g++) if (groupSizes[g]! < 2) {
      const row = ids.indexOf(g);
      fail('E_VALUE', 'groups', `at least 2 rows per group for '${name}'${name === 'grpo_passk' ? ' (verl: "Pass@k requires at least 2 samples per group")' : ' (OpenRLHF requires n_samples_per_prompt > 1)'}`, `a group of 1 row (row ${row})`);
    }
  }
  const out = options.out;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { tokenAdvantages?, rowAdvantages? }', describe(out));
  if (!tokenScores) for (let i = 0; i < layout.rows; i++) if (!Number.isFinite(scores[i]!)) badScore(i, scores[i]!, false, sumMasked);
  return {
    layout, scores, tokenScores, sumMasked, groupIds: ids, numGroups: count, groupSizes, estimator: name, entry,
    epsilon, normByStd, fNorm, clip,
    outTokens: outArray(out?.tokenAdvantages, 'out.tokenAdvantages', layout.tokens),
    outRows: outArray(out?.rowAdvantages, 'out.rowAdvantages', layout.rows),
  };
}

/** Raise what a backend found (a non-finite row sum, too few trained tokens), else build the result. */
export function finishOutcome(p: OutcomeProblem, raw: OutcomeRaw, backend: OutcomeResult['backend']): OutcomeResult {
  if (raw.badRow >= 0) badScore(raw.badRow, raw.badValue, p.tokenScores, p.sumMasked);
  if (p.estimator === 'reinforce_plus_plus_baseline' && raw.trained <= 1) {
    fail('E_VALUE', 'mask', 'at least 2 trained tokens (an unbiased masked variance; verl raises here too)', `${raw.trained}`);
  }
  return { tokenAdvantages: p.outTokens, returns: p.outTokens, rowAdvantages: p.outRows, estimator: p.estimator, backend };
}

/** grpo, dr_grpo, trl_grpo: grpoAdvantages with the conventions mapped, then the packed mask applied. */
async function delegateToGrpo(options: OutcomeOptions, name: string): Promise<OutcomeResult> {
  const layout = prepareLayout(options);
  const trl = name === 'trl_grpo';
  const normByStd = flag(options.normByStd, 'normByStd', true);
  if (!trl && options.scale !== undefined) fail('E_VALUE', 'scale', `undefined (scale is trl_grpo's option; '${name}' uses normByStd)`, describe(options.scale));
  const scale: GrpoScale = trl ? options.scale ?? 'group' : name === 'dr_grpo' || !normByStd ? 'none' : 'group';
  const common = {
    groups: options.groups, preset: trl ? 'trl' as const : 'verl' as const, scale, backend: options.backend,
    ...(options.numGroups !== undefined ? { numGroups: options.numGroups } : {}),
    ...(options.epsilon !== undefined ? { epsilon: options.epsilon } : {}),
    ...(options.out !== undefined ? { out: options.out } : {}),
    ...(options.context !== undefined ? { context: options.context } : {}),
  };
  let result;
  if (layout.cols > 0) {
    result = await grpoAdvantages({
      ...common, scores: options.scores, mask: layout.mask!, shape: [layout.rows, layout.cols],
      ...(options.scoreLevel !== undefined ? { scoreLevel: options.scoreLevel } : {}),
      ...(options.sumMasked !== undefined ? { sumMasked: options.sumMasked } : {}),
    });
  } else {
    // Packed: grpoAdvantages takes no mask there, so masked sums are done here and the mask applied after.
    const scores = toFloat32(options.scores, 'scores');
    const tokenScores = scoreLevelOf(scores, layout, options.scoreLevel);
    const sumMasked = flag(options.sumMasked, 'sumMasked', false);
    const rowLevel = tokenScores && sumMasked && layout.mask !== null;
    let rowScores = scores;
    if (rowLevel) {
      const s = rowScoresOf(scores, layout, true, true);
      for (let i = 0; i < layout.rows; i++) if (!(trl ? !(s[i] === Infinity || s[i] === -Infinity) : Number.isFinite(s[i]!))) badScore(i, s[i]!, true, true);
      rowScores = Float32Array.from(s);
    }
    result = await grpoAdvantages({ ...common, scores: rowScores, offsets: layout.offsets, scoreLevel: rowLevel ? 'row' : tokenScores ? 'token' : 'row' });
    const mask = layout.mask;
    if (mask) for (let t = 0; t < layout.tokens; t++) if (mask[t] === 0) result.tokenAdvantages[t] = 0;
  }
  return { tokenAdvantages: result.tokenAdvantages, returns: result.tokenAdvantages, rowAdvantages: result.rowAdvantages, estimator: name, backend: result.backend };
}

/**
 * Outcome advantages by estimator name (verl's registry names plus `dr_grpo`, `trl_grpo`,
 * `group_norm`), per row and broadcast to trained tokens, on the chosen backend.
 */
export async function outcomeAdvantages(options: OutcomeOptions): Promise<OutcomeResult> {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const { name, entry } = estimatorOf(options);
  if (entry.kind === 'grpo') return delegateToGrpo(options, name);
  if (options.scale !== undefined) fail('E_VALUE', 'scale', `undefined (scale is trl_grpo's option)`, describe(options.scale));
  const problem = prepareOutcome(options, name, entry);
  if (entry.kind === 'custom') {
    if (options.backend !== undefined && !['auto', 'js', 'native', 'webgpu'].includes(options.backend as string)) {
      fail('E_VALUE', 'backend', "one of 'auto', 'js', 'native', 'webgpu'", describe(options.backend));
    }
    return finishOutcome(problem, outcomeJs(problem), 'js');
  }
  return runOp('outcomeAdvantages', options.backend, problem.layout.tokens + problem.layout.rows, {
    js: async () => finishOutcome(problem, outcomeJs(problem), 'js'),
    native: async () => finishOutcome(problem, await outcomeNative(problem), 'native'),
    webgpu: async () => finishOutcome(problem, await outcomeWebgpu(problem, options.context), 'webgpu'),
  });
}

