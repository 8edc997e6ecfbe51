/**
 * Helpers of the reward-heads tests: random problems, 16-bit encodings, a safetensors writer, and
 * the error bound a backend's f32 GEMM may differ from the f64 reference by.
 *
 * The bound, per score r_kb (u = 2^-24; L = 1.13 ≥ max |act'| over SiLU, GELU, ReLU, tanh):
 *   z_i = Σ_j W1_ij·h_j summed in f32 over H terms (plus T terms of an f32 mean on WebGPU) is off
 *   by at most (H + T + 2)·u·S_i, S_i = |b1_i| + Σ_j |W1_ij|·ĥ_j, where ĥ_j = |h_j|, or the mean of
 *   |x_tj| over the pooled tokens (γ_n ≤ n·u, the classic worst case for any summation order);
 *   that moves r by at most L·Σ_i |w2_i|·(H + T + 2)·u·S_i.
 *   WebGPU also sums w2_i·act(z_i) in f32 (width + tiles terms: (W + 4)·u·Σ|w2_i·a_i|) and
 *   evaluates exp/tanh/erf in f32 ((8 + 2|z|)·u·(|a| + |z|) + 2e-7·|z| per unit: WGSL's exp is
 *   within 3 + 2|x| ulp; A&S 7.1.26 erf within 1.5e-7).
 *   Both round the result to f32: 2·u·|r|.
 * Everything else (bias, activation, w2 on native) runs in f64 like the reference.
 */
import { activate } from '../lib/scoring/heads.ref.js';
import { ACT, type HeadsProblem, prepareHeads, type RewardHead, type ScoreHeadsOptions } from '../lib/scoring/heads.js';
import { elementReader } from '../lib/scoring/heads.dtype.js';
import { gauss } from './helpers.js';

export const U = 2 ** -24;
export type Concrete = 'js' | 'native' | 'webgpu';
export const ACTS = ['silu', 'gelu', 'relu', 'tanh'] as const;

/** f32 → f16 bits (truncating; the values here are normal or flush to ±0). */
export function toF16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const s = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 127 + 15, m = (u >>> 13) & 0x3ff;
  if (((u >>> 23) & 0xff) === 0xff) return s | 0x7c00 | (m ? 0x200 : 0); // inf / NaN
  if (e <= 0) return s;
  if (e >= 31) return s | 0x7c00;
  return s | (e << 10) | m;
}

/** Encode f32 values as the given storage dtype. */
export function encode(values: Float32Array, dtype: 'f32' | 'f16' | 'bf16'): Float32Array | Uint16Array {
  if (dtype === 'f32') return values;
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) out[i] = dtype === 'f16' ? toF16(values[i]!) : bits[i]! >>> 16;
  return out;
}

export function randomFloats(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gauss(r) * scale;
  return out;
}

/** K random heads over H (linear and MLP mixed unless `kind` says), widths up to maxWidth. */
export function randomHeads(r: () => number, K: number, H: number, maxWidth: number, kind?: 'linear' | 'mlp'): RewardHead[] {
  const heads: RewardHead[] = [];
  for (let k = 0; k < K; k++) {
    const lin = kind ? kind === 'linear' : r() < 0.3;
    if (lin) { heads.push({ kind: 'linear', weight: randomFloats(r, H, 1 / Math.sqrt(H)), bias: gauss(r) }); continue; }
    const W = 1 + Math.floor(r() * maxWidth);
    const head: RewardHead = { kind: 'mlp', w1: randomFloats(r, W * H, 1 / Math.sqrt(H)), w2: randomFloats(r, W, 1 / Math.sqrt(W)), b2: gauss(r), activation: ACTS[Math.floor(r() * 4)]! };
    if (r() < 0.8) head.b1 = randomFloats(r, W, 0.5);
    heads.push(head);
  }
  return heads;
}

/** The per-score bound of the module comment for `backend` (0 for js: it must match exactly). */
export function errorBound(o: ScoreHeadsOptions, backend: Concrete): Float64Array {
  const p: HeadsProblem = prepareHeads({ ...o, out: undefined });
  const { B, T, H, heads } = p;
  const bound = new Float64Array(heads.length * B);
  if (backend === 'js') return bound;
  const read = elementReader(p.hidden, p.dtype);
  const gpu = backend === 'webgpu';
  const n = H + (gpu && p.pool?.kind === 'mean' ? T : 0) + 2;
  const h = new Float64Array(H), habs = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    // ĥ and h of row b.
    if (!p.pool || p.pool.kind === 'index') {
      const base = (p.pool ? b * T + p.pool.index[b]! : b) * H;
      for (let j = 0; j < H; j++) { h[j] = read(base + j); habs[j] = Math.abs(h[j]!); }
    } else {
      h.fill(0); habs.fill(0);
      let c = 0;
      for (let t = 0; t < T; t++) {
        if (p.pool.mask && !p.pool.mask[b * T + t]) continue;
        c++;
        for (let j = 0; j < H; j++) { const x = read((b * T + t) * H + j); h[j] += x; habs[j] += Math.abs(x); }
      }
      for (let j = 0; j < H; j++) { h[j] /= Math.max(c, 1); habs[j] /= Math.max(c, 1); }
    }
    heads.forEach((head, k) => {
      let e = 0, r = head.c, sumAbs = 0;
      for (let i = 0; i < head.width; i++) {
        let z = head.b1 ? head.b1[i]! : 0, S = Math.abs(z);
        for (let j = 0; j < H; j++) { const w = head.w1[i * H + j]!; z += w * h[j]!; S += Math.abs(w) * habs[j]!; }
        const w2 = head.w2 ? head.w2[i]! : 1, a = activate(head.act, z);
        r += w2 * a;
        e += Math.abs(w2) * 1.13 * n * U * S;
        if (gpu && head.act !== ACT.identity) e += Math.abs(w2) * ((8 + 2 * Math.abs(z)) * U * (Math.abs(a) + Math.abs(z)) + 2e-7 * Math.abs(z));
        sumAbs += Math.abs(w2 * a);
      }
      if (gpu) e += (head.width + 4) * U * sumAbs;
      bound[k * B + b] = e + 2 * U * Math.abs(r) + 1e-30;
    });
  }
  return bound;
}

/** '' when |got − ref| <= bound everywhere (NaN must match NaN), else the first failure. */
export function outside(got: Float32Array, ref: Float32Array, bound: Float64Array): string {
  let bad = 0, first = '';
  for (let i = 0; i < ref.length; i++) {
    const a = got[i]!, e = ref[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= bound[i]!;
    if (!ok) { if (!bad) first = `[${i}] got ${a}, expected ${e} ± ${bound[i]!.toExponential(2)}`; bad++; }
  }
  return bad ? `${bad} of ${ref.length} outside the bound; first ${first}` : '';
}

/** A safetensors file from (name, dtype, shape, little-endian bytes), header padded with spaces to 8 bytes. */
export function safetensorsBytes(tensors: Array<[string, string, number[], Uint8Array]>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let at = 0;
  for (const [name, dtype, shape, bytes] of tensors) { header[name] = { dtype, shape, data_offsets: [at, at + bytes.length] }; at += bytes.length; }
  return withHeader(JSON.stringify(header), tensors.map((t) => t[3]));
}

/** A file from raw header text and data parts (for corrupt files). */
export function withHeader(text: string, parts: Uint8Array[]): Uint8Array {
  let json = new TextEncoder().encode(text);
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) { const j = new Uint8Array(padded).fill(0x20); j.set(json); json = j; }
  const data = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(8 + json.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export const f32Bytes = (x: Float32Array) => new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
export const u16Bytes = (x: Uint16Array) => new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
