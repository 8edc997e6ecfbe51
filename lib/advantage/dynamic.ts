/**
 * DAPO dynamic sampling (SPEC.md §1.4 "DAPO extras"; verl recipe/dapo, `filter_groups`): keep the
 * rows of groups whose scores are not all equal. verl computes `np.std` of each group's sequence
 * scores and keeps `std > 0 or len(group) == 1`, so a group of one row is KEPT by default
 * (`keepSingletons: false` drops it, as the DAPO paper's 0 < accuracy < 1 rule would).
 *
 * "Not all equal" is decided exactly here; verl's float32 np.std can differ at the last bit (an
 * all-equal group whose mean is not representable may get std > 0 and be kept; differences below
 * ~1e-19 square to 0 and are dropped).
 */
import { describe, fail } from '../errors.js';
import { toFloat32, type IndexArray } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { denseGroups, prepareLayout, type MaskInput, type TokenLayout } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { scoreLevelOf, badScore } from './outcome.js';
import { dynamicJs } from './dynamic.ref.js';
import { dynamicNative } from './dynamic.native.js';
import { dynamicWebgpu } from './dynamic.gpu.js';

export interface DynamicSamplingOptions {
  /** Sequence scores [B] (verl's `seq_final_reward`/`seq_reward`), or token-level rewards summed per row. */
  scores: Float32Array | Float64Array | number[];
  groups: IndexArray | { size: number };
  numGroups?: number;
  /** Needed only for token-level scores: the layout their tokens follow. Default: B rows of one token. */
  mask?: MaskInput;
  shape?: readonly [number, number];
  offsets?: IndexArray;
  scoreLevel?: 'row' | 'token';
  /** Token-level scores: sum only trained tokens (default false: verl sums every token). */
  sumMasked?: boolean;
  /** Keep groups of one row (default true, as verl's recipe). */
  keepSingletons?: boolean;
  backend?: Backend;
  context?: GpuContext;
}

export interface DynamicSamplingResult {
  /** Indices of the kept rows, ascending. */
  keptRows: Uint32Array;
  /** Number of kept groups (verl's num_prompt_in_batch increment). */
  keptGroups: number;
  /** 1 per kept group, by dense group id (order of first appearance). */
  groupKept: Uint8Array;
  backend: 'js' | 'native' | 'webgpu';
}

export interface DynamicProblem {
  layout: TokenLayout;
  scores: Float32Array;
  tokenScores: boolean;
  sumMasked: boolean;
  keepSingletons: boolean;
  groupIds: Uint32Array;
  numGroups: number;
  /** Written by the backends: group flags, and the kept rows first. */
  groupKept: Uint8Array;
  rowsOut: Uint32Array;
}

export interface DynamicRaw { badRow: number; badValue: number; kept: number; keptGroups: number }

/** 0, 1, …, n − 1: rows of one token. (A loop: `Uint32Array.from({ length }, fn)` took 2.3 ms for 65k rows.) */
function iota(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

export function prepareDynamic(options: DynamicSamplingOptions): DynamicProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const scores = toFloat32(options.scores, 'scores');
  const hasLayout = options.mask !== undefined || options.shape !== undefined || options.offsets !== undefined;
  if (!hasLayout && scores.length < 1) fail('E_SHAPE', 'scores', 'at least one row score', 'length 0');
  const layout = hasLayout ? prepareLayout(options) : prepareLayout({ offsets: iota(scores.length + 1) });
  const tokenScores = hasLayout ? scoreLevelOf(scores, layout, options.scoreLevel) : false;
  if (!hasLayout && options.scoreLevel === 'token') fail('E_VALUE', 'scoreLevel', "'row' (token-level scores need mask+shape or offsets)", "'token'");
  for (const key of ['sumMasked', 'keepSingletons'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') fail('E_VALUE', key, 'a boolean', describe(options[key]));
  }
  const sumMasked = options.sumMasked ?? false;
  if (!tokenScores) for (let i = 0; i < layout.rows; i++) if (!Number.isFinite(scores[i]!)) badScore(i, scores[i]!, false, sumMasked);
  const { ids, count } = denseGroups(options.groups, options.numGroups, layout.rows);
  return {
    layout, scores, tokenScores, sumMasked, keepSingletons: options.keepSingletons ?? true, groupIds: ids, numGroups: count,
    groupKept: new Uint8Array(count), rowsOut: new Uint32Array(layout.rows),
  };
}

function finish(p: DynamicProblem, raw: DynamicRaw, backend: DynamicSamplingResult['backend']): DynamicSamplingResult {
  if (raw.badRow >= 0) badScore(raw.badRow, raw.badValue, p.tokenScores, p.sumMasked);
  return { keptRows: p.rowsOut.slice(0, raw.kept), keptGroups: raw.keptGroups, groupKept: p.groupKept, backend };
}

/** DAPO's group filter: the rows to keep (groups whose scores differ), on the chosen backend. */
export async function dynamicSamplingFilter(options: DynamicSamplingOptions): Promise<DynamicSamplingResult> {
  const p = prepareDynamic(options);
  return runOp('dynamicSamplingFilter', options.backend, p.layout.rows + (p.tokenScores ? p.layout.tokens : 0), {
    js: async () => finish(p, dynamicJs(p), 'js'),
    native: async () => finish(p, await dynamicNative(p), 'native'),
    webgpu: async () => finish(p, await dynamicWebgpu(p, options.context), 'webgpu'),
  });
}
