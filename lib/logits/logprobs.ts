/**
 * Token log-probabilities and entropies from logits (SPEC.md §1.4; verl
 * `verl/utils/torch_functional.py` logprobs_from_logits = log_softmax + gather, entropy_from_logits):
 * the op's one declaration — options, validation into a normalised problem, and the three backends.
 *
 * Per row z = logits / temperature over the vocabulary:
 *   logp = z[y] − logsumexp(z),   H = logsumexp(z) − Σ softmax(z)·z
 * computed in ONE pass per row with an online max m and rescaled sums s = Σ e^(z−m) and
 * w = Σ e^(z−m)·(z−m), so that logsumexp = m + log s and H = log s − w/s (w is taken relative to m
 * so H never subtracts two large numbers).
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, checkIntegers, checkSize } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { outArray } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { logprobsJs } from './logprobs.ref.js';
import { logprobsNative } from './logprobs.native.js';
import { logprobsWebgpu } from './logprobs.gpu.js';

export type LogitsDtype = 'f32' | 'bf16';

export interface TokenLogProbsOptions {
  /** [N·V] row-major: a Float32Array, or a Uint16Array of bf16 bit patterns (f32 bits >> 16). */
  logits: Float32Array | Uint16Array;
  /** Inferred from the array type; when given it must agree with it. */
  dtype?: LogitsDtype;
  /** [N, V]: N tokens, a vocabulary of V. */
  shape: readonly [number, number];
  /** [N] token ids in [0, V): when given, `logProbs[i] = z[i, labels[i]] − logsumexp(z[i])`. */
  labels?: Int32Array | Uint32Array | number[];
  /** Compute the entropy of each row's softmax (default true). */
  entropy?: boolean;
  /**
   * The logits are divided by it first, as verl does (`logits.div_(temperature)`): in f32, by the
   * f32 nearest to it, after bf16 logits are widened (verl divides bf16 logits in bf16). Default 1.
   */
  temperature?: number;
  backend?: Backend;
  /** Arrays to write the results into (length N each). */
  out?: { logProbs?: Float32Array; entropy?: Float32Array };
  /** The WebGPU context to use (default: the shared lazily created one). */
  context?: GpuContext;
}

export interface TokenLogProbsResult {
  /** [N] log-probabilities of the labels (present when labels were given). */
  logProbs?: Float32Array;
  /** [N] entropies in nats (present unless `entropy: false`). */
  entropy?: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

/** The validated, normalised problem every backend receives. */
export interface LogitsProblem {
  rows: number; // N
  vocab: number; // V
  dtype: LogitsDtype;
  logits: Float32Array | Uint16Array;
  /** Checked to lie in [0, V); null when no log-probs are wanted. */
  labels: Uint32Array | null;
  temperature: number;
  outLogProbs: Float32Array | null;
  outEntropy: Float32Array | null;
}

/** The largest vocabulary accepted: indices within a row stay well inside u32 on every backend. */
export const MAX_VOCAB = 2 ** 30;

/** Validate and normalise the options; throws RewardkitError naming the argument at fault. */
export function prepareLogits(options: TokenLogProbsOptions): LogitsProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const logits = options.logits;
  if (!(logits instanceof Float32Array) && !(logits instanceof Uint16Array)) {
    fail('E_DTYPE', 'logits', 'a Float32Array (f32) or Uint16Array (bf16 bits)', describe(logits));
  }
  const inferred: LogitsDtype = logits instanceof Float32Array ? 'f32' : 'bf16';
  const dtype = options.dtype === undefined ? inferred : checkEnum(options.dtype, 'dtype', ['f32', 'bf16'] as const);
  if (dtype !== inferred) {
    fail('E_DTYPE', 'logits', dtype === 'f32' ? "a Float32Array for dtype 'f32'" : "a Uint16Array of bf16 bits for dtype 'bf16'", describe(logits));
  }
  const shape = options.shape;
  if (!Array.isArray(shape) || shape.length !== 2) fail('E_SHAPE', 'shape', '[N, V]', describe(shape));
  const rows = checkSize(shape[0], 'shape[0]', 1);
  const vocab = checkSize(shape[1], 'shape[1]', 1);
  if (vocab > MAX_VOCAB) fail('E_RANGE', 'shape[1]', `a vocabulary of at most ${MAX_VOCAB}`, describe(vocab));
  if (rows * vocab !== logits.length) fail('E_SHAPE', 'logits', `length N*V = ${rows}*${vocab} = ${rows * vocab}`, `length ${logits.length}`);

  const wantEntropy = options.entropy ?? true;
  if (typeof wantEntropy !== 'boolean') fail('E_VALUE', 'entropy', 'a boolean', describe(wantEntropy));
  const temperature = options.temperature === undefined ? 1 : checkFinite(options.temperature, 'temperature', 0);

  let labels: Uint32Array | null = null;
  if (options.labels !== undefined) {
    const raw = checkIntegers(options.labels, 'labels');
    if (raw.length !== rows) fail('E_SHAPE', 'labels', `${rows} labels (one per row of logits)`, `${raw.length}`);
    for (let i = 0; i < rows; i++) {
      const y = raw[i]!;
      if (!(y >= 0 && y < vocab)) fail('E_RANGE', `labels[${i}]`, `a token id in [0, ${vocab})`, describe(y));
    }
    // Every label is now in [0, V): an Int32Array can be viewed as u32 without a copy.
    labels = raw instanceof Uint32Array ? raw
      : raw instanceof Int32Array ? new Uint32Array(raw.buffer, raw.byteOffset, raw.length)
      : Uint32Array.from(raw);
  }
  if (!labels && !wantEntropy) fail('E_VALUE', 'entropy', 'true, or labels to compute log-probs for (nothing to compute otherwise)', 'false and no labels');

  const out = options.out;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { logProbs?, entropy? }', describe(out));
  if (out?.logProbs !== undefined && !labels) fail('E_VALUE', 'out.logProbs', 'no array (no labels were given, so no log-probs are computed)', describe(out.logProbs));
  if (out?.entropy !== undefined && !wantEntropy) fail('E_VALUE', 'out.entropy', 'no array (entropy: false)', describe(out.entropy));
  return {
    rows, vocab, dtype, logits, labels, temperature,
    outLogProbs: labels ? outArray(out?.logProbs, 'out.logProbs', rows) : null,
    outEntropy: wantEntropy ? outArray(out?.entropy, 'out.entropy', rows) : null,
  };
}

function finish(p: LogitsProblem, backend: TokenLogProbsResult['backend']): TokenLogProbsResult {
  const r: TokenLogProbsResult = { backend };
  if (p.outLogProbs) r.logProbs = p.outLogProbs;
  if (p.outEntropy) r.entropy = p.outEntropy;
  return r;
}

/**
 * Log-probabilities of `labels` and/or entropies of each row of logits, in one fused pass per row.
 * −inf logits (vocabulary masking) contribute exactly nothing; NaN or +inf anywhere in a row make
 * that row's results NaN; a row of only −inf gives logp −inf and entropy NaN (docs/logits.md).
 */
export async function tokenLogProbs(options: TokenLogProbsOptions): Promise<TokenLogProbsResult> {
  const p = prepareLogits(options);
  return runOp('tokenLogProbs', options.backend, p.rows * p.vocab, {
    js: async () => { logprobsJs(p); return finish(p, 'js'); },
    native: async () => { await logprobsNative(p); return finish(p, 'native'); },
    webgpu: async () => { await logprobsWebgpu(p, options.context); return finish(p, 'webgpu'); },
  });
}
