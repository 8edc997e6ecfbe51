/**
 * GRPO outcome advantages broadcast to tokens (SPEC.md §1.1, §1.3): the op's one declaration —
 * options, presets, validation into a normalised problem, and the three implementations.
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, checkMask, checkOffsets, checkSize, toFloat32, type IndexArray, type Mask } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { denseGroups, maskBytes, outArray, type MaskInput } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { grpoJs } from './grpo.ref.js';
import { grpoNative } from './grpo.native.js';
import { grpoWebgpu } from './grpo.gpu.js';

export type GrpoScale = 'group' | 'batch' | 'none';
export type GrpoConvention = 'verl' | 'trl';

export interface GrpoOptions {
  /** Per-row scores [B], or token-level rewards [B*T] (padded) / [offsets[B]] (packed), summed per row. */
  scores: Float32Array | Float64Array | number[];
  /** Padded layout: the response mask [B,T], row-major (u8/bool-as-u8, i32: nonzero = trained; f32: multiplies, as verl's float masks). */
  mask?: MaskInput;
  /** Padded layout: [B, T]. */
  shape?: readonly [number, number];
  /** Packed layout: CSR row offsets [B+1] into the flat token array. */
  offsets?: IndexArray;
  /** Integer group labels per row (any order, any values), or contiguous groups of `size` rows. */
  groups: IndexArray | { size: number };
  /** When given, labels must lie in [0, numGroups). */
  numGroups?: number;
  /** Whether `scores` are per row or per token; inferred from its length unless ambiguous. */
  scoreLevel?: 'row' | 'token';
  /** Token-level scores: sum only tokens whose mask is nonzero (default false: verl sums every token). */
  sumMasked?: boolean;
  /** `verl` (default) or `trl`: picks the convention, epsilon and scaling below. */
  preset?: GrpoConvention;
  /** Divide by the group std (`group`, default), the whole batch's std (`batch`) or not at all (`none`). */
  scale?: GrpoScale;
  /** Added to the std: 1e-6 for verl, 1e-4 for TRL. */
  epsilon?: number;
  backend?: Backend;
  /**
   * Arrays to write the results into (reused across calls they save the allocation, which on a
   * fresh page costs more than the op itself at large sizes). Lengths: tokens and B.
   */
  out?: { tokenAdvantages?: Float32Array; rowAdvantages?: Float32Array };
  /** The WebGPU context to use (default: the shared lazily created one). */
  context?: GpuContext;
}

export interface GrpoResult {
  /** Advantages per token, masked: [B*T] (padded) or [offsets[B]] (packed). */
  tokenAdvantages: Float32Array;
  /** Advantages per row [B]. */
  rowAdvantages: Float32Array;
  /** The backend that ran. */
  backend: 'js' | 'native' | 'webgpu';
}

/** The validated, normalised problem every backend receives. */
export interface GrpoProblem {
  rows: number; // B
  cols: number; // T (padded) or 0 (packed)
  tokens: number; // B*T or offsets[B]
  mask: Mask | null; // padded only
  offsets: Uint32Array | null; // packed only
  scores: Float32Array;
  tokenScores: boolean;
  sumMasked: boolean;
  groupIds: Uint32Array; // dense 0..numGroups-1, in order of first appearance
  numGroups: number;
  convention: GrpoConvention;
  scale: GrpoScale;
  epsilon: number;
  /** Where every backend writes its results (given by the caller or freshly allocated). */
  outTokens: Float32Array;
  outRows: Float32Array;
}

/** What a backend returns besides its outputs; `badRow` >= 0 names a row whose token-level score sum is not allowed. */
export interface GrpoRaw {
  badRow: number;
  badValue: number;
}

export const grpoPresets: Record<GrpoConvention, { scale: GrpoScale; epsilon: number }> = {
  verl: { scale: 'group', epsilon: 1e-6 }, // core_algos.compute_grpo_outcome_advantage
  trl: { scale: 'group', epsilon: 1e-4 }, // GRPOTrainer scale_rewards='group'
};

/** A row score is allowed when finite (verl) or finite-or-NaN (TRL: NaN = missing reward). */
export function scoreAllowed(convention: GrpoConvention, s: number): boolean {
  return convention === 'trl' ? !(s === Infinity || s === -Infinity) : Number.isFinite(s);
}

function badScore(p: GrpoProblem, row: number, value: number, argument: string): never {
  const allowed = p.convention === 'trl' ? 'a finite number or NaN (missing)' : 'a finite number';
  fail('E_VALUE', argument, `${allowed} as the score of row ${row} (preset '${p.convention}')`, describe(value));
}

/** Validate and normalise the options; throws RewardkitError naming the argument at fault. */
export function prepareGrpo(options: GrpoOptions): GrpoProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const convention = checkEnum(options.preset ?? 'verl', 'preset', ['verl', 'trl'] as const);
  const preset = grpoPresets[convention];
  const scale = checkEnum(options.scale ?? preset.scale, 'scale', ['group', 'batch', 'none'] as const);
  const epsilon = options.epsilon === undefined ? preset.epsilon : checkFinite(options.epsilon, 'epsilon');
  if (epsilon < 0) fail('E_VALUE', 'epsilon', 'a finite number >= 0', describe(epsilon));
  const scores = toFloat32(options.scores, 'scores');
  if (options.sumMasked !== undefined && typeof options.sumMasked !== 'boolean') fail('E_VALUE', 'sumMasked', 'a boolean', describe(options.sumMasked));

  // Layout: exactly one of mask+shape (padded) or offsets (packed).
  let rows: number, cols: number, tokens: number;
  let mask: Mask | null = null, offsets: Uint32Array | null = null;
  if (options.offsets !== undefined) {
    if (options.mask !== undefined || options.shape !== undefined) fail('E_VALUE', 'offsets', 'either offsets (packed) or mask and shape (padded), not both', 'both');
    offsets = checkOffsets(options.offsets, 'offsets');
    rows = offsets.length - 1;
    cols = 0;
    tokens = offsets[rows]!;
  } else {
    if (options.mask === undefined) fail('E_VALUE', 'mask', 'a mask with shape [B, T] (padded) or offsets (packed)', 'neither');
    // An i32 mask (torch int masks) becomes 0/1 bytes; u8 and f32 masks are read as they are.
    mask = options.mask instanceof Int32Array ? maskBytes(options.mask, 'mask') : checkMask(options.mask, 'mask');
    const shape = options.shape;
    if (!Array.isArray(shape) || shape.length !== 2) fail('E_SHAPE', 'shape', '[B, T]', describe(shape));
    rows = checkSize(shape[0], 'shape[0]', 1);
    cols = checkSize(shape[1], 'shape[1]', 1);
    tokens = rows * cols;
    if (tokens > 2 ** 32 - 1) fail('E_RANGE', 'shape', 'B*T < 2^32', `${rows}*${cols}`);
    if (mask.length !== tokens) fail('E_SHAPE', 'mask', `length B*T = ${rows}*${cols} = ${tokens}`, `length ${mask.length}`);
  }
  if (rows < 1) fail('E_SHAPE', 'offsets', 'at least one row', '0 rows');

  // Score level: inferred from the length, explicit when both readings fit.
  let tokenScores: boolean;
  if (options.scoreLevel !== undefined) {
    tokenScores = checkEnum(options.scoreLevel, 'scoreLevel', ['row', 'token'] as const) === 'token';
    const want = tokenScores ? tokens : rows;
    if (scores.length !== want) fail('E_SHAPE', 'scores', `length ${want} (scoreLevel '${options.scoreLevel}')`, `length ${scores.length}`);
  } else if (scores.length === rows && scores.length === tokens) {
    // Same values either way for padded T=1; packed rows of one token each are also identical.
    tokenScores = false;
    if (offsets) for (let i = 0; i < rows; i++) if (offsets[i + 1]! - offsets[i]! !== 1) {
      fail('E_VALUE', 'scoreLevel', `'row' or 'token' (scores has length ${rows} = B = tokens, so both readings fit)`, 'undefined');
    }
  } else if (scores.length === rows) tokenScores = false;
  else if (scores.length === tokens) tokenScores = true;
  else fail('E_SHAPE', 'scores', `length B = ${rows} (per row) or ${tokens} (per token)`, `length ${scores.length}`);

  const { ids, count } = denseGroups(options.groups, options.numGroups, rows);
  const out = options.out;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { tokenAdvantages?, rowAdvantages? }', describe(out));
  const problem: GrpoProblem = {
    rows, cols, tokens, mask, offsets, scores, tokenScores, sumMasked: options.sumMasked ?? false,
    groupIds: ids, numGroups: count, convention, scale, epsilon,
    outTokens: outArray(out?.tokenAdvantages, 'out.tokenAdvantages', tokens),
    outRows: outArray(out?.rowAdvantages, 'out.rowAdvantages', rows),
  };
  if (!tokenScores) for (let i = 0; i < rows; i++) if (!scoreAllowed(convention, scores[i]!)) badScore(problem, i, scores[i]!, `scores[${i}]`);
  return problem;
}

/** Turn a backend's raw result into the public one, raising for a bad token-level row sum. */
export function finishGrpo(p: GrpoProblem, raw: GrpoRaw, backend: GrpoResult['backend']): GrpoResult {
  if (raw.badRow >= 0) badScore(p, raw.badRow, raw.badValue, `scores (tokens of row ${raw.badRow}${p.sumMasked ? ', masked' : ', all summed as verl does; sumMasked: true skips padding'})`);
  return { tokenAdvantages: p.outTokens, rowAdvantages: p.outRows, backend };
}

/**
 * GRPO outcome advantages, per row and broadcast to tokens, on the chosen backend.
 * verl: `(s − mean_g)/(std_u(g) + 1e-6)`, group of one → s/(1+ε). TRL: nan-aware, `+1e-4`, NaN → 0.
 */
export async function grpoAdvantages(options: GrpoOptions): Promise<GrpoResult> {
  const problem = prepareGrpo(options);
  return runOp('grpoAdvantages', options.backend, problem.tokens + problem.rows, {
    js: async () => finishGrpo(problem, grpoJs(problem), 'js'),
    native: async () => finishGrpo(problem, await grpoNative(problem), 'native'),
    webgpu: async () => finishGrpo(problem, await grpoWebgpu(problem, options.context), 'webgpu'),
  });
}

