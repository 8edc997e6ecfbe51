/**
 * Deterministic synthetic inputs shared by the op declarations: the same integer hashes every run, so
 * a case is reproducible and peers get byte-identical arrays. Ragged rows (16..T tokens) keep the
 * mask realistic; values are smooth hashes, cheap to build even at 100M elements.
 */

import type { Concrete } from '../backends/select.js';

/** Every backend: the declarations of ops that have all three. */
export const allBackends: readonly Concrete[] = ['js', 'native', 'webgpu'];

/** Exact, grouped: 16,777,216 (labels and the report's tables). */
export const count = (n: number) => n.toLocaleString('en-US');

/** Token sweeps per preset, in tokens (rows × 1,024 columns). */
export const tokenSizes = {
  smoke: [4 * 1024],
  small: [1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024],
  laptop: [1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024, 32 * 1024 * 1024],
  datacenter: [1024, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024, 32 * 1024 * 1024, 128 * 1024 * 1024],
} as const;

export const COLS = 1024;
export const GROUP = 16;

/**
 * A value in [0, 1) from an integer and a salt: murmur3's 32-bit finaliser, so arrays with different
 * salts are unrelated (a plain multiplicative hash would make them differ by a constant).
 */
export function hash01(i: number, salt = 0): number {
  let h = (i + Math.imul(salt, 0x9e3779b9)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** A padded [rows, cols] batch: ragged u8 mask, 0/1 row scores, groups of `group` rows in order. */
export function tokenBatch(tokens: number, cols = Math.min(COLS, tokens), group = GROUP) {
  const rows = Math.max(1, Math.floor(tokens / cols));
  const n = rows * cols;
  const mask = new Uint8Array(n), scores = new Float32Array(rows), groups = new Int32Array(rows), lengths = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    lengths[i] = Math.min(cols, 1 + Math.floor(hash01(i, 1) * cols));
    mask.fill(1, i * cols, i * cols + lengths[i]!);
    scores[i] = hash01(i, 2) < 0.45 ? 1 : 0;
    groups[i] = Math.floor(i / group);
  }
  return { rows, cols, tokens: n, shape: [rows, cols] as [number, number], mask, scores, groups, lengths };
}

/** `n` floats: a smooth hash in [lo, hi). */
export function floats(n: number, salt: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  const span = hi - lo;
  for (let i = 0; i < n; i++) a[i] = lo + span * hash01(i, salt);
  return a;
}

/** Log-probabilities near each other (new vs old vs ref), as a policy step produces. */
export function logProbTriple(n: number) {
  const logProbs = floats(n, 3, -4, -0.01), oldLogProbs = new Float32Array(n), refLogProbs = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    oldLogProbs[i] = logProbs[i]! + 0.3 * (hash01(i, 4) - 0.5);
    refLogProbs[i] = logProbs[i]! + 0.5 * (hash01(i, 5) - 0.5);
  }
  return { logProbs, oldLogProbs, refLogProbs };
}
