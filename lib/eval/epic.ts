/**
 * EPIC distance between reward functions (Gleave et al. 2021, SPEC.md §2.7; evaluating-rewards
 * `distances/tabular.py`, `distances/epic_sample.py`). Tabular EPIC over [S, A, S] tables runs on
 * js, native and webgpu (canonicalisation + weighted Pearson moments); the sample-based estimator
 * calls user reward functions and is JS.
 */
import { describe, fail, RewardkitError } from '../errors.js';
import { checkFinite, checkSize } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { floatArray, type Floats } from './preference.js';
import { canonicalizeTabular, l1Normalizer, pearson, pearsonToDistance } from './epic.ref.js';
import { epicNative } from './epic.native.js';
import { epicWebgpu } from './epic.gpu.js';

export interface EpicOptions {
  /** Reward table A, row-major [S, A, S]: R(s, a, s'). */
  rewardA: Floats;
  /** Reward table B, [S, A, S]. */
  rewardB: Floats;
  /** [S, A]: number of states and actions. */
  shape: readonly [number, number];
  /** γ (default 0.99, scripts/distances/epic.py). */
  discount?: number;
  /** Distribution of next states for the canonicalisation [S] (default uniform). */
  stateDist?: Floats;
  /** Distribution of actions for the canonicalisation [A] (default uniform). */
  actionDist?: Floats;
  /** Coverage distribution for the Pearson correlation [S·A·S] (default uniform). */
  weights?: Floats;
  /** Also return the canonical tables (default false). */
  canonical?: boolean;
  backend?: Backend;
  context?: GpuContext;
}

export interface EpicResult {
  /** D = sqrt((1 − ρ)/2) in [0, 1]: 0 for equivalent rewards (shaping, positive scaling). */
  distance: number;
  /** ρ, the weighted Pearson correlation of the canonical rewards (clipped ≤ 1). */
  pearson: number;
  canonicalA?: Float32Array;
  canonicalB?: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

export interface EpicProblem {
  states: number;
  actions: number;
  size: number;
  rewardA: Float32Array | Float64Array;
  rewardB: Float32Array | Float64Array;
  stateDist: Float32Array | Float64Array | null;
  actionDist: Float32Array | Float64Array | null;
  weights: Float32Array | Float64Array | null;
  discount: number;
  canonical: boolean;
}

/** Weighted moments Σw, Σw·x, Σw·y, Σw·x², Σw·y², Σw·x·y of the canonical rewards (native / webgpu). */
export interface EpicMoments { w: number; a: number; b: number; aa: number; bb: number; ab: number }

/** ρ from one-pass moments (the canonical rewards have mean ≈ 0, so there is little cancellation). */
export function pearsonFromMoments(m: EpicMoments): number {
  const ma = m.a / m.w, mb = m.b / m.w;
  const va = m.aa / m.w - ma * ma, vb = m.bb / m.w - mb * mb, cov = m.ab / m.w - ma * mb;
  const corr = cov / (Math.sqrt(Math.max(va, 0)) * Math.sqrt(Math.max(vb, 0)));
  return Number.isNaN(corr) ? NaN : Math.min(corr, 1);
}

/** _check_dist: non-negative, finite, summing to 1 (np.allclose). */
function distribution(value: unknown, argument: string, length: number): Float32Array | Float64Array {
  const d = floatArray(value, argument, length);
  let s = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!(v >= 0) || v === Infinity) fail('E_VALUE', `${argument}[${i}]`, 'a finite probability >= 0', describe(v));
    s += v;
  }
  if (!(Math.abs(s - 1) <= 1e-8 + 1e-5)) fail('E_VALUE', argument, 'a distribution summing to 1', `sum ${s}`);
  return d;
}

export function prepareEpic(options: EpicOptions): EpicProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const shape = options.shape;
  if (!Array.isArray(shape) || shape.length !== 2) fail('E_SHAPE', 'shape', '[S, A]', describe(shape));
  const states = checkSize(shape[0], 'shape[0]', 1), actions = checkSize(shape[1], 'shape[1]', 1);
  const size = states * actions * states;
  if (size > 2 ** 32 - 1) fail('E_RANGE', 'shape', 'S·A·S < 2^32', `${states}*${actions}*${states}`);
  const rewardA = floatArray(options.rewardA, 'rewardA', size), rewardB = floatArray(options.rewardB, 'rewardB', size);
  const discount = checkFinite(options.discount ?? 0.99, 'discount');
  if (discount < 0 || discount > 1) fail('E_VALUE', 'discount', 'a number in [0, 1]', describe(discount));
  const canonical = options.canonical ?? false;
  if (typeof canonical !== 'boolean') fail('E_VALUE', 'canonical', 'a boolean', describe(canonical));
  return {
    states, actions, size, rewardA, rewardB, discount, canonical,
    stateDist: options.stateDist === undefined ? null : distribution(options.stateDist, 'stateDist', states),
    actionDist: options.actionDist === undefined ? null : distribution(options.actionDist, 'actionDist', actions),
    weights: options.weights === undefined ? null : distribution(options.weights, 'weights', size),
  };
}

/** The JS path: the f64 reference (numpy's two-pass Pearson). */
export function epicJs(p: EpicProblem): EpicResult {
  const ca = canonicalizeTabular(p.rewardA, p.states, p.actions, p.discount, p.stateDist, p.actionDist).canonical;
  const cb = canonicalizeTabular(p.rewardB, p.states, p.actions, p.discount, p.stateDist, p.actionDist).canonical;
  const rho = pearson(ca, cb, p.weights);
  const r: EpicResult = { distance: pearsonToDistance(rho), pearson: rho, backend: 'js' };
  if (p.canonical) { r.canonicalA = Float32Array.from(ca); r.canonicalB = Float32Array.from(cb); }
  return r;
}

/** Tabular EPIC distance between two reward tables [S, A, S]. NaN anywhere gives NaN. */
export async function epicDistance(options: EpicOptions): Promise<EpicResult> {
  const p = prepareEpic(options);
  return runOp<EpicResult>('epicDistance', options.backend, 2 * p.size, {
    js: async () => epicJs(p),
    native: async () => epicNative(p),
    webgpu: async () => epicWebgpu(p, options.context),
  });
}

/** Pearson distance sqrt((1 − ρ)/2) between two arrays, optionally weighted (pearson_distance). */
export function pearsonDistance(a: Floats, b: Floats, weights?: Floats): number {
  const x = floatArray(a, 'a');
  if (x.length === 0) fail('E_SHAPE', 'a', 'at least one value', 'length 0');
  const y = floatArray(b, 'b', x.length);
  return pearsonToDistance(pearson(x, y, weights === undefined ? null : distribution(weights, 'weights', x.length)));
}

export type RewardFn<S, A> = (state: S, action: A, nextState: S) => number;

export interface EpicSampledOptions<S, A> {
  rewardA: RewardFn<S, A>;
  rewardB: RewardFn<S, A>;
  /** The transitions to compare the rewards on (their coverage distribution). */
  batch: { states: readonly S[]; actions: readonly A[]; nextStates: readonly S[] };
  /** Paired samples (a_j, s'_j) that define the mean reward m(x) = mean_j R(x, a_j, s'_j). */
  actionSamples: readonly A[];
  nextStateSamples: readonly S[];
  /** γ (default 0.99). */
  discount?: number;
  /** Key identifying equal states, so m(x) is computed once per state (default: the value, or JSON for objects). */
  key?: (state: S) => string | number;
}

export interface EpicSampledResult {
  distance: number;
  pearson: number;
  /** Canonical (deshaped, L1-normalised) rewards on the batch. */
  canonicalA: Float64Array;
  canonicalB: Float64Array;
}

/**
 * Sample-based EPIC (sample_canon_shaping + pearson_distance): `R + γ m(s') − m(s) − γ mean_j m(s'_j)`
 * over the batch with dones 0, scaled by 1/mean|·|, then the uniform Pearson distance.
 */
export function epicSampled<S, A>(options: EpicSampledOptions<S, A>): EpicSampledResult {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const { rewardA, rewardB, batch, actionSamples, nextStateSamples } = options;
  if (typeof rewardA !== 'function') fail('E_VALUE', 'rewardA', 'a function (state, action, nextState) => number', describe(rewardA));
  if (typeof rewardB !== 'function') fail('E_VALUE', 'rewardB', 'a function (state, action, nextState) => number', describe(rewardB));
  if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.states) || !Array.isArray(batch.actions) || !Array.isArray(batch.nextStates)) {
    fail('E_VALUE', 'batch', 'an object { states, actions, nextStates } of arrays', describe(batch));
  }
  const n = batch.states.length;
  if (n === 0) fail('E_SHAPE', 'batch.states', 'at least one transition', 'length 0');
  if (batch.actions.length !== n) fail('E_SHAPE', 'batch.actions', `length ${n}`, `length ${batch.actions.length}`);
  if (batch.nextStates.length !== n) fail('E_SHAPE', 'batch.nextStates', `length ${n}`, `length ${batch.nextStates.length}`);
  if (!Array.isArray(actionSamples) || actionSamples.length === 0) fail('E_SHAPE', 'actionSamples', 'a non-empty array', describe(actionSamples));
  if (!Array.isArray(nextStateSamples) || nextStateSamples.length !== actionSamples.length) {
    fail('E_SHAPE', 'nextStateSamples', `an array of length ${actionSamples.length} (paired with actionSamples)`, describe(nextStateSamples));
  }
  const gamma = checkFinite(options.discount ?? 0.99, 'discount');
  if (gamma < 0 || gamma > 1) fail('E_VALUE', 'discount', 'a number in [0, 1]', describe(gamma));
  const key = options.key ?? ((s: S) => (typeof s === 'object' && s !== null ? JSON.stringify(s) : (s as unknown as string | number)));
  const call = (fn: RewardFn<S, A>, which: string, s: S, a: A, t: S): number => {
    const v = fn(s, a, t);
    if (typeof v !== 'number') throw new RewardkitError('E_VALUE', `Expected ${which} to return a number but received ${describe(v)}`, which);
    return v;
  };
  const cache = new Map<string | number, [number, number]>();
  const meanOf = (x: S): [number, number] => {
    const k = key(x);
    let m = cache.get(k);
    if (!m) {
      let sa = 0, sb = 0;
      for (let j = 0; j < actionSamples.length; j++) {
        sa += call(rewardA, 'rewardA', x, actionSamples[j]!, nextStateSamples[j]!);
        sb += call(rewardB, 'rewardB', x, actionSamples[j]!, nextStateSamples[j]!);
      }
      m = [sa / actionSamples.length, sb / actionSamples.length];
      cache.set(k, m);
    }
    return m;
  };
  let totalA = 0, totalB = 0;
  for (const x of nextStateSamples) { const m = meanOf(x); totalA += m[0]; totalB += m[1]; }
  totalA /= nextStateSamples.length; totalB /= nextStateSamples.length;
  const ca = new Float64Array(n), cb = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = batch.states[i]!, a = batch.actions[i]!, t = batch.nextStates[i]!;
    const ms = meanOf(s), mt = meanOf(t);
    ca[i] = call(rewardA, 'rewardA', s, a, t) + gamma * mt[0] - ms[0] - gamma * totalA;
    cb[i] = call(rewardB, 'rewardB', s, a, t) + gamma * mt[1] - ms[1] - gamma * totalB;
  }
  const ka = l1Normalizer(ca), kb = l1Normalizer(cb);
  for (let i = 0; i < n; i++) { ca[i] = ca[i]! * ka; cb[i] = cb[i]! * kb; }
  const rho = pearson(ca, cb);
  return { distance: pearsonToDistance(rho), pearson: rho, canonicalA: ca, canonicalB: cb };
}
