/** Shared test helpers: a seeded generator of GRPO problems, tolerant comparison, fixtures. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../lib/paths.js';
import type { GrpoOptions } from '../lib/advantage/grpo.js';
import { RewardkitError } from '../lib/errors.js';

/** mulberry32: small, seedable, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Compare element-wise: |a − e| <= abs + rel·|e|; NaN matches NaN, ±Inf match exactly.
 * Returns a description of the first mismatch, or '' when all match.
 */
export function mismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-5, abs = 1e-6): string {
  if (actual.length !== expected.length) return `length ${actual.length} vs expected ${expected.length}`;
  let bad = 0, first = '';
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= abs + rel * Math.abs(e);
    if (!ok) { if (!bad) first = `[${i}] got ${a}, expected ${e}`; bad++; }
  }
  return bad ? `${bad} of ${expected.length} differ; first ${first}` : '';
}

export interface CaseSpec {
  rows: number;
  cols: number; // padded T, or the max row length for packed
  packed?: boolean;
  mask?: 'u8' | 'f32';
  tokenScores?: boolean;
  sumMasked?: boolean;
  groups?: 'labels' | 'size';
  groupSize?: number;
  preset?: 'verl' | 'trl';
  scale?: 'group' | 'batch' | 'none';
  /** Edge cases layered on the random data. */
  special?: 'singletons' | 'allEqual' | 'emptyRows' | 'nanPad' | 'huge' | 'tiny' | 'trlNaN' | 'oneGroup';
}

/** A random problem: binary-ish and Gaussian scores, ragged rows, shuffled group labels. */
export function makeCase(spec: CaseSpec, seed: number): GrpoOptions {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const B = spec.rows, T = spec.cols;
  let G = spec.groupSize ?? Math.max(1, Math.min(B, 1 + Math.floor(r() * 16)));
  if (spec.special === 'singletons') G = 1;
  if (spec.special === 'oneGroup') G = B;
  while (B % G) G--;
  // Row lengths: ragged, some rows empty when asked.
  const lens = Array.from({ length: B }, () => (spec.special === 'emptyRows' && r() < 0.3 ? 0 : Math.floor(r() * (T + 1))));
  const scale = spec.special === 'huge' ? 1e30 : spec.special === 'tiny' ? 1e-30 : 1;
  const rowScore = () => {
    if (spec.special === 'allEqual') return 0.7 * scale; // every row of every group equal
    return (r() < 0.5 ? Math.round(r()) : gauss()) * scale;
  };
  const options: GrpoOptions = { scores: new Float32Array(0), groups: { size: G } };
  if (spec.preset) options.preset = spec.preset;
  if (spec.scale) options.scale = spec.scale;
  if (spec.groups === 'labels') {
    // Shuffle rows among groups, labels arbitrary non-negative integers.
    const labels = Array.from({ length: B }, (_, i) => Math.floor(i / G) * 7 + 3);
    for (let i = B - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [labels[i], labels[j]] = [labels[j]!, labels[i]!]; }
    options.groups = Int32Array.from(labels);
  }
  const rowScores = Float32Array.from({ length: B }, rowScore);
  if (spec.special === 'trlNaN') for (let i = 0; i < B; i++) if (r() < 0.2) rowScores[i] = NaN;

  if (spec.packed) {
    const offsets = new Uint32Array(B + 1);
    for (let i = 0; i < B; i++) offsets[i + 1] = offsets[i]! + lens[i]!;
    options.offsets = offsets;
    const N = offsets[B]!;
    if (spec.tokenScores) {
      const s = new Float32Array(N);
      for (let i = 0; i < B; i++) if (lens[i]) s[offsets[i + 1]! - 1] = rowScores[i]!; // reward at the last token
      // A little dense shaping, except where the groups must stay exactly equal.
      if (spec.special !== 'allEqual') for (let t = 0; t < N; t++) if (r() < 0.05) s[t] += 0.01 * gauss() * scale;
      options.scores = s;
      options.scoreLevel = 'token';
    } else { options.scores = rowScores; options.scoreLevel = 'row'; }
  } else {
    const f32 = spec.mask === 'f32';
    const mask = f32 ? new Float32Array(B * T) : new Uint8Array(B * T);
    for (let i = 0; i < B; i++) for (let t = 0; t < lens[i]!; t++) mask[i * T + t] = f32 && r() < 0.1 ? 0.5 : 1;
    options.mask = mask;
    options.shape = [B, T];
    if (spec.tokenScores) {
      const s = new Float32Array(B * T);
      for (let i = 0; i < B; i++) s[i * T + Math.max(0, lens[i]! - 1)] = rowScores[i]!;
      if (spec.special !== 'allEqual') for (let t = 0; t < B * T; t++) if (r() < 0.05 && mask[t]) s[t] += 0.01 * gauss() * scale;
      if (spec.special === 'nanPad') for (let t = 0; t < B * T; t++) if (!mask[t] && r() < 0.5) s[t] = r() < 0.5 ? NaN : Infinity;
      options.scores = s;
      options.scoreLevel = 'token';
      if (spec.sumMasked || spec.special === 'nanPad') options.sumMasked = true;
    } else { options.scores = rowScores; options.scoreLevel = 'row'; }
  }
  return options;
}

/** Every edge case × layout × convention, at a given size. */
export function caseMatrix(rows: number, cols: number): Array<{ name: string; spec: CaseSpec }> {
  const out: Array<{ name: string; spec: CaseSpec }> = [];
  const specials = [undefined, 'singletons', 'allEqual', 'emptyRows', 'huge', 'tiny', 'oneGroup'] as const;
  for (const preset of ['verl', 'trl'] as const) for (const scale of ['group', 'batch', 'none'] as const) {
    for (const special of [...specials, ...(preset === 'trl' ? (['trlNaN'] as const) : [])]) {
      for (const layout of ['u8', 'f32', 'packed'] as const) {
        const tokenScores = (rows * 31 + cols + out.length) % 2 === 0 && special !== 'trlNaN';
        out.push({
          name: `${preset}/${scale}/${special ?? 'random'}/${layout}/${tokenScores ? 'token' : 'row'}`,
          spec: { rows, cols, preset, scale, packed: layout === 'packed', mask: layout === 'f32' ? 'f32' : 'u8', tokenScores,
            groups: out.length % 3 === 0 ? 'size' : 'labels', ...(special ? { special } : {}) },
        });
      }
    }
  }
  for (const preset of ['verl', 'trl'] as const) {
    out.push({ name: `${preset}/nanPad/token`, spec: { rows, cols, preset, tokenScores: true, special: 'nanPad', groups: 'labels' } });
  }
  return out;
}

export function fixture(path: string): any {
  return JSON.parse(readFileSync(join(packageRoot(), 'test', 'fixtures', path), 'utf8'));
}

/** Decode a conformance tensor's data (non-finite values are strings). */
export function decode(data: Array<number | string | boolean>): number[] {
  return data.map((v) => (typeof v === 'string' ? Number(v) : Number(v)));
}

export const isCI = process.env['CI'] === 'true' || process.env['CI'] === '1';

/** A standard normal draw from a uniform generator. */
export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

export interface LayoutSpec {
  rows: number;
  /** Padded T, or the longest packed row. */
  cols: number;
  packed?: boolean;
  /** The padded mask's dtype (default u8). */
  mask?: 'u8' | 'f32' | 'i32';
  /** Some rows with no trained token. */
  emptyRows?: boolean;
}

/**
 * A random token layout (ragged rows: trained tokens first, padding after) as the options every
 * token-level op takes ({mask, shape} or {offsets}), with each row's trained length.
 */
export function randomLayout(r: () => number, spec: LayoutSpec): { layout: { mask?: Uint8Array | Float32Array | Int32Array; shape?: [number, number]; offsets?: Uint32Array }; lens: number[]; tokens: number } {
  const B = spec.rows, T = spec.cols;
  const lens = Array.from({ length: B }, () => (spec.emptyRows && r() < 0.3 ? 0 : Math.floor(r() * (T + 1))));
  if (spec.packed) {
    const offsets = new Uint32Array(B + 1);
    for (let i = 0; i < B; i++) offsets[i + 1] = offsets[i]! + lens[i]!;
    return { layout: { offsets }, lens, tokens: offsets[B]! };
  }
  const mask = spec.mask === 'f32' ? new Float32Array(B * T) : spec.mask === 'i32' ? new Int32Array(B * T) : new Uint8Array(B * T);
  for (let i = 0; i < B; i++) for (let t = 0; t < lens[i]!; t++) mask[i * T + t] = 1;
  return { layout: { mask, shape: [B, T] }, lens, tokens: B * T };
}

/** 'ok' when f resolves, else the RewardkitError's code (any other error is rethrown). */
export async function errorCode(f: () => Promise<unknown>): Promise<string> {
  try { await f(); return 'ok'; } catch (e) {
    if (!(e instanceof RewardkitError)) throw e;
    return e.code;
  }
}
