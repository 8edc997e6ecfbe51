/**
 * Process rewards (SPEC.md §2.5): per-step PRM scores over ragged step lists (CSR offsets).
 * - aggregateSteps: one score per response (OpenR reason/reranking/vote_utils.py: min, empty → −1.0;
 *   and the other aggregations PRM papers use).
 * - clipDelta: AReaL's PRM reward refinement (Gao et al. 2024 Clip and Delta; areal PRMRLVRWorkflow).
 * - bestOfN / weightedVote: selection and voting (OpenR AGG_FN_MAP), on the host.
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkOffsets, toFloat32 } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { denseGroups, floatsOf, outArray } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { aggregateStepsJs, clipDeltaJs } from './prm.ref.js';
import { aggregateStepsNative, clipDeltaNative } from './prm.native.js';
import { aggregateStepsWebgpu, clipDeltaWebgpu } from './prm.gpu.js';

export type StepAggregation = 'min' | 'max' | 'prod' | 'geometricMean' | 'mean' | 'meanLogit' | 'meanOdds' | 'last';
export const stepAggregations: readonly StepAggregation[] = ['min', 'max', 'prod', 'geometricMean', 'mean', 'meanLogit', 'meanOdds', 'last'];

interface Ragged {
  /** Step scores of every response, concatenated [N]. */
  stepScores: Float32Array | Float64Array | number[];
  /** CSR offsets [B+1]: response i's steps are stepScores[offsets[i] .. offsets[i+1]). Empty lists allowed. */
  stepOffsets: Uint32Array | Int32Array | number[];
  backend?: Backend;
  context?: GpuContext;
}

export interface AggregateStepsOptions extends Ragged {
  /**
   * min, max, prod, geometricMean (exp of the mean log), mean, meanLogit σ(mean logit p),
   * meanOdds max(0, mean p/(1−p)), last. NaN in a list makes its result NaN.
   */
  method: StepAggregation;
  /** The score of a response with no steps (default −1.0, OpenR's; best-of-N scripts also use 0.5). */
  emptyValue?: number;
  out?: Float32Array;
}

export interface ClipDeltaOptions extends Ragged {
  /** Clip: η = mean of the response's step rewards; r > η → 0, else r − η (default true). */
  clip?: boolean;
  /** Delta: new[k] = v[k] − v[k+1] for k < K−2, new[K−2] = v[K−2], new[K−1] = 0 (default true). */
  delta?: boolean;
  /** Per-response outcome reward [B] written over each non-empty response's last step (AReaL's success reward). */
  successReward?: Float32Array | Float64Array | number[];
  out?: Float32Array;
}

export interface StepsProblem {
  rows: number; // B
  steps: number; // N
  scores: Float32Array;
  offsets: Uint32Array;
}
export interface AggregateProblem extends StepsProblem { method: StepAggregation; emptyValue: number; out: Float32Array }
export interface ClipDeltaProblem extends StepsProblem { clip: boolean; delta: boolean; success: Float32Array | null; out: Float32Array }

function prepareSteps(options: Ragged): StepsProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const scores = toFloat32(options.stepScores, 'stepScores');
  const offsets = checkOffsets(options.stepOffsets, 'stepOffsets');
  if (offsets[offsets.length - 1] !== scores.length) fail('E_SHAPE', 'stepScores', `length stepOffsets[B] = ${offsets[offsets.length - 1]}`, `length ${scores.length}`);
  return { rows: offsets.length - 1, steps: scores.length, scores, offsets };
}

export function prepareAggregate(options: AggregateStepsOptions): AggregateProblem {
  const s = prepareSteps(options);
  return {
    ...s,
    method: checkEnum(options.method, 'method', stepAggregations),
    emptyValue: options.emptyValue === undefined ? -1 : checkNumber(options.emptyValue, 'emptyValue'),
    out: outArray(options.out, 'out', s.rows),
  };
}

export function prepareClipDelta(options: ClipDeltaOptions): ClipDeltaProblem {
  const s = prepareSteps(options);
  const flag = (v: unknown, arg: string) => { if (v === undefined) return true; if (typeof v !== 'boolean') fail('E_VALUE', arg, 'a boolean', describe(v)); return v; };
  return {
    ...s,
    clip: flag(options.clip, 'clip'),
    delta: flag(options.delta, 'delta'),
    success: options.successReward === undefined ? null : floatsOf(options.successReward, 'successReward', s.rows, 'one outcome reward per response'),
    out: outArray(options.out, 'out', s.steps),
  };
}

function checkNumber(v: unknown, arg: string): number {
  if (typeof v !== 'number') fail('E_VALUE', arg, 'a number', describe(v));
  return v;
}

/** One score per response from its step scores. */
export async function aggregateSteps(options: AggregateStepsOptions): Promise<{ scores: Float32Array; backend: 'js' | 'native' | 'webgpu' }> {
  const p = prepareAggregate(options);
  return runOp<{ scores: Float32Array; backend: 'js' | 'native' | 'webgpu' }>('aggregateSteps', options.backend, p.steps + p.rows, {
    js: async () => { aggregateStepsJs(p); return { scores: p.out, backend: 'js' as const }; },
    native: async () => { await aggregateStepsNative(p); return { scores: p.out, backend: 'native' as const }; },
    webgpu: async () => { await aggregateStepsWebgpu(p, options.context); return { scores: p.out, backend: 'webgpu' as const }; },
  });
}

/** AReaL's Clip then Delta refinement of step rewards (then the success reward in the last slot): [N] → [N]. */
export async function clipDelta(options: ClipDeltaOptions): Promise<{ rewards: Float32Array; backend: 'js' | 'native' | 'webgpu' }> {
  const p = prepareClipDelta(options);
  return runOp<{ rewards: Float32Array; backend: 'js' | 'native' | 'webgpu' }>('clipDelta', options.backend, p.steps + p.rows, {
    js: async () => { clipDeltaJs(p); return { rewards: p.out, backend: 'js' as const }; },
    native: async () => { await clipDeltaNative(p); return { rewards: p.out, backend: 'native' as const }; },
    webgpu: async () => { await clipDeltaWebgpu(p, options.context); return { rewards: p.out, backend: 'webgpu' as const }; },
  });
}

export interface BestOfNOptions {
  /** One score per candidate [N] (an ORM score, or aggregateSteps' output). */
  scores: Float32Array | Float64Array | number[];
  /** Candidate → prompt: integer labels (any order) or contiguous groups of `size`. */
  groups: Uint32Array | Int32Array | number[] | { size: number };
}

/**
 * The index of the best candidate in each group, groups in order of first appearance: argmax, ties →
 * the lowest index (Python's list.index(max(...))). NaN scores never win unless all are NaN (then the first).
 */
export function bestOfN(options: BestOfNOptions): Int32Array {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const scores = toFloat32(options.scores, 'scores');
  const { ids, count } = denseGroups(options.groups, undefined, scores.length);
  const best = new Int32Array(count).fill(-1);
  for (let i = 0; i < scores.length; i++) {
    const g = ids[i]!, b = best[g]!;
    if (b < 0 || scores[i]! > scores[b]! || (Number.isNaN(scores[b]!) && !Number.isNaN(scores[i]!))) best[g] = i;
  }
  return best;
}

export interface WeightedVoteOptions {
  /** Each candidate's final answer: integer ids or strings [N]. */
  answers: ArrayLike<number> | readonly string[];
  /** Each candidate's vote weight [N] (default 1: majority vote). */
  weights?: Float32Array | Float64Array | number[];
  groups: Uint32Array | Int32Array | number[] | { size: number };
}

/**
 * Per group, the answer with the largest summed weight (f64 sums; ties → the answer seen first, as
 * Python's max over an insertion-ordered dict), and its total.
 */
export function weightedVote<A extends number | string>(options: WeightedVoteOptions): Array<{ answer: A; weight: number }> {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const answers = options.answers as ArrayLike<unknown>;
  if (!Array.isArray(answers) && !ArrayBuffer.isView(answers)) fail('E_DTYPE', 'answers', 'an array of answers (numbers or strings)', describe(answers));
  const N = answers.length;
  for (let i = 0; i < N; i++) {
    const a = answers[i];
    if (typeof a !== 'string' && !(typeof a === 'number' && !Number.isNaN(a))) fail('E_VALUE', `answers[${i}]`, 'a string or a number', describe(a));
  }
  let weights: Float32Array | Float64Array | number[] | null = null;
  if (options.weights !== undefined) {
    if (Array.isArray(options.weights) || options.weights instanceof Float64Array) {
      weights = options.weights;
      if (weights.length !== N) fail('E_SHAPE', 'weights', `length ${N} (one per answer)`, `length ${weights.length}`);
      for (let i = 0; i < N; i++) if (typeof weights[i] !== 'number') fail('E_DTYPE', `weights[${i}]`, 'a number', describe(weights[i]));
    } else weights = floatsOf(options.weights, 'weights', N, 'one per answer');
  }
  const { ids, count } = denseGroups(options.groups, undefined, N);
  const tallies = Array.from({ length: count }, () => new Map<unknown, number>());
  for (let i = 0; i < N; i++) {
    const t = tallies[ids[i]!]!;
    t.set(answers[i], (t.get(answers[i]) ?? 0) + (weights ? weights[i]! : 1));
  }
  return tallies.map((t) => {
    let answer: unknown, weight = -Infinity, first = true;
    for (const [a, w] of t) if (first || w > weight) { answer = a; weight = w; first = false; }
    return { answer: answer as A, weight };
  });
}

