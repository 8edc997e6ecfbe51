/**
 * Reward shaping (SPEC.md §2.4): PAR's `RewardShaper.shaped_reward` (PorUna-byte/PAR
 * trainers/reward_shaper.py) with every flag, applied in PAR's order when several are on:
 *   ceil → length penalty → centered → sgfc → meanstd → clipping → ceil → minmax → sigmoid → tanh
 *   → fitted polynomial → LSC.
 * meanstd, clipping and minmax read one stateful RunningStats across batches; each of them first
 * merges the moments of the batch as it stands at that point (so with several on, the stats see
 * the batch up to three times per call, exactly as PAR's `update` calls do).
 */
import { describe, fail } from '../errors.js';
import { checkFinite, checkIntegers, checkOffsets, checkSize, toFloat32 } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { outArray } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { RunningStats } from './running-stats.js';
import { shapingJs } from './shaping.ref.js';
import { shapingNative } from './shaping.native.js';
import { shapingWebgpu } from './shaping.gpu.js';

/** A transform applied to the reward itself (`true`) or averaged over the reward minus each reference (`'relative'`). */
export type Relative = boolean | 'relative';

export interface ShapingFlags {
  /** PAR: the mean over the first maxRef references of σ(k(r − ref_j)) (= sigmoid: 'relative'). */
  par?: boolean;
  /** σ(k·r) (`true`) or PAR's relative form (`'relative'`). */
  sigmoid?: Relative;
  /** tanh(r), or the mean of tanh(r − ref_j). */
  tanh?: Relative;
  /** PAR's quintic fit of the sigmoid on [−5, 5] (0 below, 1 above), or its mean over r − ref_j. */
  fittedPoly?: Relative;
  /** mean_j (r − ref_j) over the first maxRef references. */
  centered?: boolean;
  /** PAR's sgfc: the relative sigmoid of r − 3. */
  sgfc?: boolean;
  /** Log-sigmoid centred: log σ(r − q), q = 0.85 quantile of N(mean(refs), std_u(refs) + 1e-5) over ALL the row's references. */
  lsc?: boolean;
  /** (r − mean)/std with the running stats (std 0 → ÷1). */
  meanstd?: boolean;
  /** Clamp to [mean − std, mean + std] of the running stats. */
  clipping?: boolean;
  /** (r − min)/(max − min) of the running stats (min/max start at ±10000 as in PAR). */
  minmax?: boolean;
  /** Clamp from above (PAR's reward_ceil; applied before the length penalty and again after clipping). */
  ceil?: number | null;
  /**
   * r −= coefficient·(len − validLength) when len > validLength (PAR: on by default, 0.01 and 300).
   * Default: on when `lengths` is given. `false` turns it off (PAR's reward_odin does the same).
   */
  lengthPenalty?: boolean | { validLength?: number; coefficient?: number };
  /** PAR's sigmoid_k (default 1): the slope of the (relative) sigmoid and sgfc. */
  k?: number;
  /** PAR's reward_maxref (default 10): relative transforms use the first maxRef references of a row. */
  maxRef?: number;
}

export interface ShapingOptions {
  /** Raw rewards [B]. */
  rewards: Float32Array | Float64Array | number[];
  /** Reference rewards (PAR's sftref_rewards): dense [B, M] with `referenceCount: M`, or ragged with `referenceOffsets`. */
  references?: Float32Array | Float64Array | number[];
  /** M for dense references [B, M]. */
  referenceCount?: number;
  /** CSR offsets [B+1] into `references` (rows may hold different numbers of references). */
  referenceOffsets?: Uint32Array | Int32Array | number[];
  /** Response lengths [B] (PAR: the response mask's sum), for the length penalty. */
  lengths?: Uint32Array | Int32Array | number[];
  options?: ShapingFlags;
  /** The running statistics meanstd / clipping / minmax read and update (default: a fresh one). Updated in place. */
  stats?: RunningStats;
  backend?: Backend;
  out?: Float32Array;
  context?: GpuContext;
}

export interface ShapingResult {
  rewards: Float32Array;
  /** The running statistics after this batch (the object passed in, or the fresh one). */
  stats: RunningStats;
  backend: 'js' | 'native' | 'webgpu';
}

/** 0 = off, 1 = on the reward, 2 = relative to the references. */
export type Mode = 0 | 1 | 2;

export interface ShapingProblem {
  rows: number;
  rewards: Float32Array;
  refs: Float32Array;
  refOffsets: Uint32Array; // [B+1]; shared between calls when dense (see denseOffsets): never written
  /** M when the references are dense [B, M] (0 without references), null when ragged: the native kernel computes the offsets. */
  refStride: number | null;
  lengths: Uint32Array | null;
  ceil: number | null;
  penalty: { validLength: number; coefficient: number } | null;
  centered: boolean;
  sgfc: boolean;
  meanstd: boolean;
  clipping: boolean;
  minmax: boolean;
  sigmoid: Mode;
  tanh: Mode;
  fittedPoly: Mode;
  lsc: boolean;
  k: number;
  maxRef: number;
  stats: RunningStats; // a working copy: committed to the caller's object only when the op succeeds
  out: Float32Array;
}

/** scipy curve_fit of a quintic to σ on linspace(−5, 5, 100) (PAR fits at start-up; these are its values). */
export const POLY = [0.0002026691697803558, 5.296811671489128e-9, -0.010130912034729786, -1.7892410516002917e-7, 0.22878851143138285, 0.5000008318663808] as const;
/** Φ⁻¹(0.85) (scipy norm.ppf). */
export const Z85 = 1.0364333894937898;

const boolFlag = (v: unknown, arg: string): boolean => {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail('E_VALUE', arg, 'a boolean', describe(v));
  return v;
};
const modeOf = (v: unknown, arg: string): Mode => {
  if (v === undefined || v === false) return 0;
  if (v === true) return 1;
  if (v === 'relative') return 2;
  return fail('E_VALUE', arg, "true, false or 'relative'", describe(v));
};

/**
 * The offsets i·M of dense [B, M] references, kept for the last (B, M) seen: building and paging in
 * 4 MB of them per call of a million rows took longer than the native kernel.
 */
let lastDense: { B: number; M: number; offsets: Uint32Array } | null = null;
function denseOffsets(B: number, M: number): Uint32Array {
  if (lastDense === null || lastDense.B !== B || lastDense.M !== M) {
    const offsets = new Uint32Array(B + 1);
    for (let i = 0; i <= B; i++) offsets[i] = i * M;
    lastDense = { B, M, offsets };
  }
  return lastDense.offsets;
}

export function prepareShaping(options: ShapingOptions): ShapingProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const f: ShapingFlags = options.options ?? {};
  if (f === null || typeof f !== 'object') fail('E_VALUE', 'options.options', 'an object of shaping flags', describe(f));
  const rewards = toFloat32(options.rewards, 'rewards');
  const B = rewards.length;
  if (B < 1) fail('E_SHAPE', 'rewards', 'at least one reward', 'length 0');

  // References: dense [B, M] or CSR.
  let refs: Float32Array = new Float32Array(0), refOffsets: Uint32Array | null = null, refStride: number | null = 0;
  if (options.references !== undefined) {
    refs = toFloat32(options.references, 'references');
    if (options.referenceOffsets !== undefined) {
      if (options.referenceCount !== undefined) fail('E_VALUE', 'referenceCount', 'either referenceCount (dense) or referenceOffsets (ragged), not both', 'both');
      refOffsets = checkOffsets(options.referenceOffsets, 'referenceOffsets');
      refStride = null;
      if (refOffsets.length !== B + 1) fail('E_SHAPE', 'referenceOffsets', `length B+1 = ${B + 1}`, `length ${refOffsets.length}`);
      if (refOffsets[B] !== refs.length) fail('E_SHAPE', 'references', `length referenceOffsets[B] = ${refOffsets[B]}`, `length ${refs.length}`);
    } else {
      if (options.referenceCount === undefined && refs.length % B) fail('E_SHAPE', 'references', `a multiple of B = ${B} values (dense [B, M]; pass referenceOffsets for ragged references)`, `length ${refs.length}`);
      const M = checkSize(options.referenceCount ?? refs.length / B, 'referenceCount');
      if (refs.length !== B * M) fail('E_SHAPE', 'references', `length B*M = ${B}*${M} (dense [B, M]; pass referenceOffsets for ragged references)`, `length ${refs.length}`);
      refStride = M;
    }
  } else if (options.referenceOffsets !== undefined || options.referenceCount !== undefined) {
    fail('E_VALUE', 'references', 'the reference rewards that referenceCount/referenceOffsets describe', 'undefined');
  }

  let lengths: Uint32Array | null = null;
  if (options.lengths instanceof Uint32Array) { // every value is a valid length: used as is
    if (options.lengths.length !== B) fail('E_SHAPE', 'lengths', `length B = ${B}`, `length ${options.lengths.length}`);
    lengths = options.lengths;
  } else if (options.lengths !== undefined) {
    const ints = checkIntegers(options.lengths, 'lengths');
    if (ints.length !== B) fail('E_SHAPE', 'lengths', `length B = ${B}`, `length ${ints.length}`);
    lengths = new Uint32Array(B);
    for (let i = 0; i < B; i++) {
      const v = ints[i]!;
      if (v < 0 || v > 0xffffffff) fail('E_RANGE', `lengths[${i}]`, 'a length in [0, 2^32)', describe(v));
      lengths[i] = v;
    }
  }
  let penalty: ShapingProblem['penalty'] = null;
  const lp = f.lengthPenalty ?? (lengths !== null);
  if (lp !== false) {
    if (lp !== true && (lp === null || typeof lp !== 'object')) fail('E_VALUE', 'options.lengthPenalty', 'a boolean or { validLength, coefficient }', describe(lp));
    if (!lengths) fail('E_VALUE', 'lengths', 'response lengths [B] (the length penalty is on)', 'undefined');
    const o = lp === true ? {} : lp;
    penalty = {
      validLength: checkFinite(o.validLength ?? 300, 'options.lengthPenalty.validLength'),
      coefficient: checkFinite(o.coefficient ?? 0.01, 'options.lengthPenalty.coefficient'),
    };
  }

  let sigmoid = modeOf(f.sigmoid, 'options.sigmoid');
  if (boolFlag(f.par, 'options.par')) {
    if (sigmoid === 1) fail('E_VALUE', 'options.sigmoid', "'relative' or unset when par is on (PAR's sigmoid is relative)", 'true');
    sigmoid = 2;
  }
  const p: ShapingProblem = {
    rows: B, rewards, refs, refOffsets: refOffsets ?? denseOffsets(B, refStride!), refStride, lengths,
    ceil: f.ceil === undefined || f.ceil === null ? null : checkFinite(f.ceil, 'options.ceil'),
    penalty,
    centered: boolFlag(f.centered, 'options.centered'),
    sgfc: boolFlag(f.sgfc, 'options.sgfc'),
    meanstd: boolFlag(f.meanstd, 'options.meanstd'),
    clipping: boolFlag(f.clipping, 'options.clipping'),
    minmax: boolFlag(f.minmax, 'options.minmax'),
    sigmoid,
    tanh: modeOf(f.tanh, 'options.tanh'),
    fittedPoly: modeOf(f.fittedPoly, 'options.fittedPoly'),
    lsc: boolFlag(f.lsc, 'options.lsc'),
    k: checkFinite(f.k ?? 1, 'options.k'),
    maxRef: checkSize(f.maxRef ?? 10, 'options.maxRef', 1),
    stats: new RunningStats(),
    out: outArray(options.out, 'out', B),
  };
  if (options.stats !== undefined) {
    if (!(options.stats instanceof RunningStats)) fail('E_DTYPE', 'stats', 'a RunningStats', describe(options.stats));
    p.stats = options.stats.clone();
  }

  // Relative transforms average over the row's first maxRef references: every row needs one.
  const relative = p.centered || p.sgfc || p.sigmoid === 2 || p.tanh === 2 || p.fittedPoly === 2;
  if (relative) {
    // Dense rows all hold M references: only M = 0 can fail, at row 0.
    const o = p.refOffsets, rows = refStride === null ? B : refStride === 0 ? 1 : 0;
    for (let i = 0; i < rows; i++) if (o[i + 1] === o[i]) fail('E_VALUE', 'references', `at least one reference for row ${i} (a relative transform is on)`, '0 references');
  }
  if (relative || p.lsc) {
    if (options.references === undefined) fail('E_VALUE', 'references', 'reference rewards (a relative transform or LSC is on)', 'undefined');
  }
  // The running stats must only ever see finite values (PAR's would turn NaN for good).
  if (p.meanstd || p.clipping || p.minmax) {
    for (let i = 0; i < B; i++) if (!Number.isFinite(rewards[i]!)) fail('E_VALUE', `rewards[${i}]`, 'a finite reward (meanstd/clipping/minmax update running statistics)', describe(rewards[i]));
    if (p.centered || p.sgfc) for (let j = 0; j < refs.length; j++) if (!Number.isFinite(refs[j]!)) fail('E_VALUE', `references[${j}]`, 'a finite reference reward (running statistics follow)', describe(refs[j]));
  }
  return p;
}

/** The steps of one kernel pass, in PAR's order. */
export const STEP = { PRE: 1, MEANSTD: 2, CLIP: 4, CEIL2: 8, MINMAX: 16, POST: 32 } as const;

/**
 * The passes a backend runs: each starts with at most one running-stats step (whose batch moments
 * must be taken first), followed by the per-row steps up to the next one.
 */
export function shapingPasses(p: ShapingProblem): number[] {
  const order: number[] = [STEP.PRE];
  if (p.meanstd) order.push(STEP.MEANSTD);
  if (p.clipping) order.push(STEP.CLIP);
  if (p.ceil !== null) order.push(STEP.CEIL2);
  if (p.minmax) order.push(STEP.MINMAX);
  order.push(STEP.POST);
  const passes: number[] = [];
  for (const s of order) {
    const stat = s === STEP.MEANSTD || s === STEP.CLIP || s === STEP.MINMAX;
    if (stat || !passes.length) passes.push(s); else passes[passes.length - 1]! |= s;
  }
  return passes;
}

/** Shape a batch of rewards as PAR does; the running stats (if any step reads them) are updated in place. */
export async function shapeRewards(options: ShapingOptions): Promise<ShapingResult> {
  const p = prepareShaping(options);
  const stats = options.stats ?? new RunningStats();
  const done = (backend: ShapingResult['backend']): ShapingResult => {
    stats.restore(p.stats.state());
    return { rewards: p.out, stats, backend };
  };
  return runOp('shapeRewards', options.backend, p.rows + p.refs.length, {
    js: async () => { shapingJs(p); return done('js'); },
    native: async () => { await shapingNative(p); return done('native'); },
    webgpu: async () => { await shapingWebgpu(p, options.context); return done('webgpu'); },
  });
}
