/**
 * Reward heads (SPEC.md §2.1–2.2): pool the hidden state that feeds each row's head, then score it
 * with K heads at once (an ensemble) → scores [K, B]. The op's one declaration: options, validation
 * into a normalised problem, and the three backends.
 *
 *   linear  r = w·h + b                                  (TRL/transformers `score`, OpenRLHF `value_head`)
 *   mlp     r = w2·act(W1·h + b1) + b2                   (two layers; SiLU default, GELU, ReLU, tanh)
 *
 * W1 is in torch's nn.Linear layout [width, H] (out × in), so weights saved by torch load as is.
 * GELU is the exact erf form, torch's default `nn.GELU()` (approximate='none').
 * Hidden states may be f32, or f16/bf16 bits in a Uint16Array; every product is accumulated in f32
 * or better (the JS reference in f64).
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, checkSize } from '../tensor.js';
import { floatsOf, outArray } from '../layout.js';
import { runOp, type Backend } from '../backends/select.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { preparePooling, type PoolPlan, type Pooling } from './pool.js';
import { headsJs } from './heads.ref.js';
import { headsNative } from './heads.native.js';
import { headsWebgpu } from './heads.gpu.js';

export type HiddenDtype = 'f32' | 'f16' | 'bf16';
export type HeadActivation = 'silu' | 'gelu' | 'relu' | 'tanh';
type Floats = Float32Array | Float64Array | number[];

export interface LinearHead {
  kind: 'linear';
  /** [H] (a torch `Linear(H, 1)` weight [1, H], flat). */
  weight: Floats;
  /** Default 0. */
  bias?: number;
}

export interface MlpHead {
  kind: 'mlp';
  /** [width·H]: torch `Linear(H, width).weight`, row-major [width, H]. The width is w1.length / H. */
  w1: Floats;
  /** [width]; default zeros. */
  b1?: Floats;
  /** [width]: torch `Linear(width, 1).weight`, flat. */
  w2: Floats;
  /** Default 0. */
  b2?: number;
  /** Default 'silu'. GELU is the exact erf form (torch's default). */
  activation?: HeadActivation;
}

export type RewardHead = LinearHead | MlpHead;

/** OpenRLHF's normalisation: 'batch' = `(r − mean)/std_u.clamp(1e-8)` over the B scores of each head; or stored values. */
export type HeadNormalization = 'batch' | { mean: number | number[]; std: number | number[] };

export interface ScoreHeadsOptions {
  /** [B·H] (pooled) or [B·T·H] row-major: a Float32Array, or a Uint16Array of f16/bf16 bits. */
  hidden: Float32Array | Uint16Array;
  /** 'f32' for a Float32Array; 'f16' or 'bf16' is required for a Uint16Array. */
  dtype?: HiddenDtype;
  /** [B, H] (one state per row, no pooling) or [B, T, H] (pooled by `pooling`). */
  shape: readonly [number, number] | readonly [number, number, number];
  /** Required for [B, T, H]: which token feeds the head (see pool.ts). */
  pooling?: Pooling;
  /** One head or K heads (an ensemble); every head reads the same H. */
  heads: RewardHead | RewardHead[];
  normalize?: HeadNormalization;
  backend?: Backend;
  /** [K·B] to write the scores into. */
  out?: Float32Array;
  /** The WebGPU context to use (default: the shared lazily created one). */
  context?: GpuContext;
}

export interface ScoreHeadsResult {
  /** [K·B], head-major: the score of row b under head k is scores[k·B + b]. */
  scores: Float32Array;
  heads: number;
  rows: number;
  /** [B] the token each row's head read (pooling 'last', 'mask' or 'index'). */
  index?: Uint32Array;
  backend: 'js' | 'native' | 'webgpu';
}

/** Activation codes the kernels share: 0 = identity (a linear head's single column). */
export const ACT = { identity: 0, silu: 1, gelu: 2, relu: 3, tanh: 4 } as const;

/** A head normalised to one form: `c + Σ_j w2[j]·act(W1[j]·h + b1[j])`; a linear head is width 1, identity, w2 = 1. */
export interface NormHead {
  act: number;
  width: number;
  w1: Float32Array; // [width·H]
  b1: Float32Array | null; // [width] or zeros
  w2: Float32Array | null; // [width]; null = 1 (linear)
  c: number;
}

/** The validated, normalised problem every backend receives. */
export interface HeadsProblem {
  B: number;
  /** T of [B, T, H]; 0 when the input is already pooled [B, H]. */
  T: number;
  H: number;
  dtype: HiddenDtype;
  hidden: Float32Array | Uint16Array;
  pool: PoolPlan | null;
  heads: NormHead[];
  /** Σ widths: the columns of the first-layer product [B, N]. */
  N: number;
  /** [K·B]. */
  out: Float32Array;
}

const ACTIVATIONS = ['silu', 'gelu', 'relu', 'tanh'] as const;

function prepareHead(head: unknown, k: number, H: number, name: string): NormHead {
  if (head === null || typeof head !== 'object') fail('E_VALUE', name, "a head { kind: 'linear' | 'mlp', ... }", describe(head));
  const h = head as Record<string, unknown>;
  const constant = (key: string) => (h[key] === undefined ? 0 : checkFinite(h[key], `${name}.${key}`));
  if (h['kind'] === 'linear') {
    const w1 = floatsOf(h['weight'], `${name}.weight`, H, `H = ${H}`);
    return { act: ACT.identity, width: 1, w1, b1: null, w2: null, c: constant('bias') };
  }
  if (h['kind'] !== 'mlp') fail('E_VALUE', `${name}.kind`, "'linear' or 'mlp'", describe(h['kind']));
  const w1raw = h['w1'] as { length?: unknown } | undefined;
  const len = w1raw && typeof w1raw === 'object' && typeof w1raw.length === 'number' ? w1raw.length : -1;
  if (!(len >= H) || len % H !== 0) fail('E_SHAPE', `${name}.w1`, `a multiple of H = ${H} (width·H values)`, `length ${len < 0 ? describe(w1raw) : len}`);
  const width = len / H;
  const w1 = floatsOf(h['w1'], `${name}.w1`, width * H, `width·H`);
  const w2 = floatsOf(h['w2'], `${name}.w2`, width, `width = w1.length / H = ${width}`);
  const b1 = h['b1'] === undefined ? null : floatsOf(h['b1'], `${name}.b1`, width, `width = ${width}`);
  const act = h['activation'] === undefined ? 'silu' : checkEnum(h['activation'], `${name}.activation`, ACTIVATIONS);
  return { act: ACT[act], width, w1, b1, w2, c: constant('b2') };
}

/** Validate and normalise the options; throws RewardkitError naming the argument at fault. */
export function prepareHeads(options: ScoreHeadsOptions): HeadsProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const hidden = options.hidden;
  if (!(hidden instanceof Float32Array) && !(hidden instanceof Uint16Array)) {
    fail('E_DTYPE', 'hidden', 'a Float32Array (f32) or Uint16Array (f16/bf16 bits)', describe(hidden));
  }
  let dtype: HiddenDtype;
  if (hidden instanceof Float32Array) {
    dtype = options.dtype === undefined ? 'f32' : checkEnum(options.dtype, 'dtype', ['f32', 'f16', 'bf16'] as const);
    if (dtype !== 'f32') fail('E_DTYPE', 'hidden', `a Uint16Array of ${dtype} bits for dtype '${dtype}'`, describe(hidden));
  } else {
    if (options.dtype === undefined) fail('E_DTYPE', 'dtype', "'f16' or 'bf16' for a Uint16Array of hidden states", 'undefined');
    dtype = checkEnum(options.dtype, 'dtype', ['f32', 'f16', 'bf16'] as const);
    if (dtype === 'f32') fail('E_DTYPE', 'hidden', "a Float32Array for dtype 'f32'", describe(hidden));
  }
  const shape = options.shape;
  if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 3)) fail('E_SHAPE', 'shape', '[B, H] or [B, T, H]', describe(shape));
  const B = checkSize(shape[0], 'shape[0]', 1);
  const T = shape.length === 3 ? checkSize(shape[1], 'shape[1]', 1) : 0;
  const H = checkSize(shape[shape.length - 1], `shape[${shape.length - 1}]`, 1);
  const expected = B * Math.max(T, 1) * H;
  if (hidden.length !== expected) {
    fail('E_SHAPE', 'hidden', shape.length === 3 ? `length B*T*H = ${B}*${T}*${H} = ${expected}` : `length B*H = ${B}*${H} = ${expected}`, `length ${hidden.length}`);
  }
  let pool: PoolPlan | null = null;
  if (T > 0) {
    if (options.pooling === undefined) fail('E_VALUE', 'pooling', "a pooling for hidden states [B, T, H] ({ kind: 'last' | 'mask' | 'index' | 'mean', ... })", 'undefined');
    pool = preparePooling(options.pooling, B, T);
  } else if (options.pooling !== undefined) {
    fail('E_VALUE', 'pooling', 'no pooling for already pooled hidden states [B, H]', describe(options.pooling));
  }

  const list = Array.isArray(options.heads) ? options.heads : [options.heads];
  if (list.length === 0) fail('E_VALUE', 'heads', 'at least one head', 'Array(0)');
  const many = Array.isArray(options.heads);
  const heads = list.map((h, k) => prepareHead(h, k, H, many ? `heads[${k}]` : 'heads'));
  const N = heads.reduce((s, h) => s + h.width, 0);
  if (N > 2 ** 24) fail('E_RANGE', 'heads', 'at most 2^24 first-layer units in all', `${N}`);
  const K = heads.length;
  return { B, T, H, dtype, hidden, pool, heads, N, out: outArray(options.out, 'out', K * B) };
}

type Stats = { mean: number[]; std: number[] };

function prepareNormalization(value: unknown, K: number, B: number): Stats | 'batch' | null {
  if (value === undefined) return null;
  if (value === 'batch') {
    if (B < 2) fail('E_VALUE', 'normalize', 'at least 2 rows for batch normalisation (the unbiased std of 1 value is NaN)', `B = ${B}`);
    return 'batch';
  }
  if (value === null || typeof value !== 'object') fail('E_VALUE', 'normalize', "'batch' or { mean, std }", describe(value));
  const v = value as Record<string, unknown>;
  const perHead = (key: 'mean' | 'std') => {
    const x = v[key];
    const arr = typeof x === 'number' ? new Array<number>(K).fill(x) : Array.isArray(x) && x.length === K ? (x as unknown[]) : null;
    if (!arr) fail('E_SHAPE', `normalize.${key}`, `a number or ${K} numbers (one per head)`, describe(x));
    return arr.map((n, k) => checkFinite(n, `normalize.${key}[${k}]`, key === 'std' ? 0 : undefined));
  };
  return { mean: perHead('mean'), std: perHead('std') };
}

/** OpenRLHF: `(r − mean)/std`, with the batch's mean and unbiased std clamped to 1e-8, or stored values. f64, per head. */
function normalize(scores: Float32Array, K: number, B: number, how: Stats | 'batch'): void {
  for (let k = 0; k < K; k++) {
    const r = scores.subarray(k * B, (k + 1) * B);
    let mean: number, std: number;
    if (how === 'batch') {
      let s = 0;
      for (let b = 0; b < B; b++) s += r[b]!;
      mean = s / B;
      let q = 0;
      for (let b = 0; b < B; b++) q += (r[b]! - mean) ** 2;
      std = Math.max(Math.sqrt(q / (B - 1)), 1e-8);
    } else {
      mean = how.mean[k]!;
      std = how.std[k]!;
    }
    for (let b = 0; b < B; b++) r[b] = (r[b]! - mean) / std;
  }
}

/**
 * Score pooled hidden states with one or K reward heads → scores [K·B] (head-major). Mean pooling
 * skips masked tokens (NaN in padding never leaks); normalisation, when asked, runs last in f64.
 */
export async function scoreHeads(options: ScoreHeadsOptions): Promise<ScoreHeadsResult> {
  const p = prepareHeads(options);
  const norm = prepareNormalization(options.normalize, p.heads.length, p.B);
  const work = p.B * p.N * p.H + (p.pool?.kind === 'mean' ? p.hidden.length : 0);
  const finish = (backend: ScoreHeadsResult['backend']): ScoreHeadsResult => {
    if (norm) normalize(p.out, p.heads.length, p.B, norm);
    const r: ScoreHeadsResult = { scores: p.out, heads: p.heads.length, rows: p.B, backend };
    if (p.pool?.kind === 'index') r.index = p.pool.index;
    return r;
  };
  return runOp('scoreHeads', options.backend, work, {
    js: async () => { headsJs(p); return finish('js'); },
    native: async () => { await headsNative(p); return finish('native'); },
    webgpu: async () => { await headsWebgpu(p, options.context); return finish('webgpu'); },
  });
}
