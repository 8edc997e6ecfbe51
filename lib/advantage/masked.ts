/**
 * verl's masked statistics as public ops (verl/utils/torch_functional.py masked_sum, masked_mean,
 * masked_var, masked_whiten; SPEC.md §1.2) over any token layout, on every backend. NaN/Inf on
 * untrained tokens never reaches a trained token's statistic (a select, never `v·m`).
 *
 * `axis: 'all'` (default; verl axis=None) reduces the whole batch; `axis: 'row'` (verl axis=-1)
 * gives one result per row (for the variance and whitening, which verl only offers over the whole
 * tensor, the same formulas applied to each row).
 */
import { describe, fail } from '../errors.js';
import { runOp, type Backend } from '../backends/select.js';
import { floatsOf, outArray, prepareLayout, type LayoutOptions, type TokenLayout } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { maskedJs } from './masked.ref.js';
import { maskedNative } from './masked.native.js';
import { maskedWebgpu } from './masked.gpu.js';

export type MaskedAxis = 'all' | 'row';

export interface MaskedOptions extends LayoutOptions {
  /** Per-token values: [B·T] (padded) or [offsets[B]] (packed). */
  values: Float32Array | Float64Array | number[];
  /** `'all'` (default, verl axis=None: one number) or `'row'` (verl axis=-1: one per row). `null` and `-1` are accepted as verl spells them. */
  axis?: MaskedAxis | null | -1;
  backend?: Backend;
  /** The WebGPU context to use (default: the shared one). */
  context?: GpuContext;
  /** Where to write the result (length 1, B, or the token count for maskedWhiten). */
  out?: Float32Array;
}

export interface MaskedVarOptions extends MaskedOptions {
  /** Bessel's correction n/(n−1) (default true, as verl); needs >= 2 trained tokens (per row for axis 'row'). */
  unbiased?: boolean;
}

export interface MaskedWhitenOptions extends MaskedOptions {
  /** false adds the mean back after scaling (verl shift_mean=False). Default true. */
  shiftMean?: boolean;
}

export interface MaskedResult {
  /** axis 'all': length 1; axis 'row': length B; maskedWhiten: one value per token (padding included, not re-masked). */
  result: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

export type MaskedKind = 'sum' | 'mean' | 'var' | 'whiten';
export const maskedKindCode: Record<MaskedKind, number> = { sum: 0, mean: 1, var: 2, whiten: 3 };

/** The validated problem every backend receives. */
export interface MaskedProblem {
  kind: MaskedKind;
  layout: TokenLayout;
  values: Float32Array;
  perRow: boolean;
  unbiased: boolean;
  shiftMean: boolean;
  out: Float32Array;
}

/** What a native/GPU backend reports besides the output: the trained-token count (axis 'all') or the first row with too few (−1: none). */
export interface MaskedRaw {
  count: number;
  badRow: number;
  badCount: number;
}

/** verl raises for an unbiased variance over <= 1 token: every backend raises the same E_VALUE. */
export function tooFewTokens(argument: string, count: number, row = -1): never {
  if (row >= 0) fail('E_VALUE', `${argument} (row ${row})`, 'at least 2 trained tokens in every row (an unbiased masked variance per row)', `${count}`);
  return fail('E_VALUE', argument, 'at least 2 trained tokens (an unbiased masked variance; verl raises here too)', `${count}`);
}

function axisOf(value: unknown): boolean {
  if (value === undefined || value === null || value === 'all') return false;
  if (value === 'row' || value === -1) return true;
  return fail('E_VALUE', 'axis', "'all' (or null) or 'row' (or -1)", describe(value));
}

function flagOf(value: unknown, argument: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail('E_VALUE', argument, 'a boolean', describe(value));
  return value;
}

export function prepareMasked(kind: MaskedKind, options: MaskedVarOptions & MaskedWhitenOptions): MaskedProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const layout = prepareLayout(options);
  const values = floatsOf(options.values, 'values', layout.tokens, layout.cols ? 'B*T' : 'offsets[B]');
  const perRow = axisOf(options.axis);
  const unbiased = flagOf(options.unbiased, 'unbiased', true);
  const shiftMean = flagOf(options.shiftMean, 'shiftMean', true);
  const length = kind === 'whiten' ? layout.tokens : perRow ? layout.rows : 1;
  return { kind, layout, values, perRow, unbiased: kind === 'whiten' || unbiased, shiftMean, out: outArray(options.out, 'out', length) };
}

/** Raise for too few tokens; otherwise the public result. */
export function finishMasked(p: MaskedProblem, raw: MaskedRaw, backend: MaskedResult['backend']): MaskedResult {
  const needs = (p.kind === 'var' || p.kind === 'whiten') && p.unbiased;
  if (needs && p.perRow && raw.badRow >= 0) tooFewTokens('mask', raw.badCount, raw.badRow);
  if (needs && !p.perRow && raw.count <= 1) tooFewTokens('mask', raw.count);
  return { result: p.out, backend };
}

async function run(kind: MaskedKind, options: MaskedVarOptions & MaskedWhitenOptions): Promise<MaskedResult> {
  const p = prepareMasked(kind, options);
  return runOp(`masked${kind[0]!.toUpperCase()}${kind.slice(1)}`, options.backend, p.layout.tokens + p.layout.rows, {
    js: async () => { maskedJs(p); return { result: p.out, backend: 'js' }; },
    native: async () => finishMasked(p, await maskedNative(p), 'native'),
    webgpu: async () => finishMasked(p, await maskedWebgpu(p, options.context), 'webgpu'),
  });
}

/** verl masked_sum: Σ v over trained tokens (axis 'all') or per row. */
export const maskedSum = (options: MaskedOptions): Promise<MaskedResult> => run('sum', options);
/** verl masked_mean: Σ v·m / (Σ m + 1e-8) (an empty row gives 0). */
export const maskedMean = (options: MaskedOptions): Promise<MaskedResult> => run('mean', options);
/** verl masked_var: masked_mean((v − mean)²), × n/(n−1) when unbiased (E_VALUE for n <= 1). */
export const maskedVar = (options: MaskedVarOptions): Promise<MaskedResult> => run('var', options);
/** verl masked_whiten: (v − mean)·rsqrt(var_unbiased + 1e-8) for every token (+ mean when shiftMean is false). */
export const maskedWhiten = (options: MaskedWhitenOptions): Promise<MaskedResult> => run('whiten', options);
