/**
 * scoreHeads on WebGPU, one submission:
 *  1. (mean pooling) heads_pool: the masked mean of each row's tokens into pooled f32 [B, H];
 *     the selected token of 'last'/'mask'/'index' pooling is gathered on the host instead (B·H
 *     values uploaded, not B·T·H);
 *  2. heads_gemm: MLP heads as one tiled GEMM over all their first-layer columns (128×128 tiles,
 *     8×8 per thread, workgroup-shared K-slices) with the activation and w2 fused into its
 *     epilogue → one partial per (row, 128-column tile); heads_linear: linear heads, up to 16 dot
 *     products per row per dispatch;
 *  3. heads_finish: each head's partials summed in order → [B, K]; the host adds the constants
 *     (bias / b2) in f64 and reorders to [K, B].
 * Each MLP head is zero-padded to whole tiles so a tile never straddles two heads. Every binding is
 * split to fit ctx.maxBinding: rows of hidden states (and of partials/outputs) per chunk, column
 * tiles of W per chunk, token ranges of a row for mean pooling when one row does not fit.
 */
import { fail } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { HeadsProblem } from './heads.js';

const TILE = 128; // heads_gemm.wgsl
const LINEAR_PER_PASS = 16; // heads_linear.wgsl
const DTYPE = { f32: 0, f16: 1, bf16: 2 } as const;

/**
 * `repeat` (benchmarks only) encodes the pooling/GEMM/finish passes that many times in the one
 * submission: each repetition computes the same result, so (t(R) − t(1))/(R − 1) is the kernels'
 * time without uploads and readback.
 */
export async function headsWebgpu(p: HeadsProblem, context?: GpuContext, repeat = 1): Promise<void> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const outRows = encodeHeads(plan, p, repeat);
    await plan.run();
    const { B, heads } = p, K = heads.length;
    const got = new Float32Array(B * K);
    await plan.read([[outRows, got]]);
    for (let k = 0; k < K; k++) {
      const c = heads[k]!.c;
      for (let b = 0; b < B; b++) p.out[k * B + b] = c + got[b * K + k]!;
    }
  } finally {
    plan.release();
  }
}

/**
 * Encode the passes into `plan` (no submission) → the buffer of scores [B, K] (row-major, COPY_SRC)
 * WITHOUT each head's constant (bias / b2): headsWebgpu adds it on the host in f64, the fused
 * pipeline on the device.
 */
export function encodeHeads(plan: GpuPlan, p: HeadsProblem, repeat = 1): GPUBuffer {
  const ctx = plan.ctx;
  const { B, T, H, heads } = p;
  const K = heads.length;
  const cap = ctx.maxBinding - ctx.offsetAlignment - 8; // a range's offset aligns down, its size rounds up
  const fits = (what: string, bytes: number) => {
    if (bytes > cap) fail('E_RANGE', 'context', `a maxBinding of at least ${bytes + ctx.offsetAlignment + 8} bytes (${what})`, `${ctx.maxBinding}`);
  };

  // Slots: one per linear head, then one per 128-column tile of each MLP head.
  const linear: number[] = [], mlp: number[] = [];
  heads.forEach((h, k) => (h.w2 === null ? linear : mlp).push(k));
  const ranges = new Uint32Array(2 * K);
  linear.forEach((k, i) => { ranges[2 * k] = i; ranges[2 * k + 1] = i + 1; });
  let slots = linear.length;
  for (const k of mlp) {
    const t = Math.ceil(heads[k]!.width / TILE);
    ranges[2 * k] = slots;
    ranges[2 * k + 1] = slots + t;
    slots += t;
  }
  const tiles = slots - linear.length;

  // Hidden states → rows of A (f32/f16/bf16 as stored, or pooled f32).
  let A: GPUBuffer, dtype: number = DTYPE[p.dtype];
  const pool = p.pool;
  if (pool === null) {
    A = plan.upload(p.hidden);
  } else if (pool.kind === 'index') {
    const g = new (p.hidden.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(B * H);
    for (let b = 0; b < B; b++) { const at = (b * T + pool.index[b]!) * H; g.set(p.hidden.subarray(at, at + H), b * H); }
    A = plan.upload(g);
  } else {
    A = plan.scratch(B * H * 4);
    meanPool(plan, p, pool.mask, A, cap, fits, repeat);
    dtype = DTYPE.f32;
  }
  const elem = dtype === DTYPE.f32 ? 4 : 2;
  fits('one row of hidden states', H * elem);
  fits('one row of partials', slots * 4);
  const rowsPer = Math.floor(Math.min(cap / (H * elem), cap / (slots * 4), cap / (K * 4)));
  const partials = plan.scratch(B * slots * 4);
  const outRows = plan.scratch(B * K * 4, GPUBufferUsage.COPY_SRC);

  // MLP heads, padded to whole tiles: W [tiles·128, H], (b1, w2) per column, (act, slot) per tile.
  let W: GPUBuffer | null = null, cols: GPUBuffer | null = null, tileInfo: GPUBuffer | null = null;
  let tilesPer = 0;
  if (tiles > 0) {
    fits('one 128-column tile of MLP weights', TILE * H * 4);
    tilesPer = Math.floor(cap / (TILE * H * 4));
    const w = new Float32Array(tiles * TILE * H), c = new Float32Array(tiles * TILE * 2), ti = new Uint32Array(tiles * 2);
    let t = 0;
    for (const k of mlp) {
      const h = heads[k]!;
      w.set(h.w1, t * TILE * H);
      for (let i = 0; i < h.width; i++) { c[2 * (t * TILE + i)] = h.b1 ? h.b1[i]! : 0; c[2 * (t * TILE + i) + 1] = h.w2![i]!; }
      const n = Math.ceil(h.width / TILE);
      for (let j = 0; j < n; j++) { ti[2 * (t + j)] = h.act; ti[2 * (t + j) + 1] = ranges[2 * k]! + j; }
      t += n;
    }
    W = plan.upload(w);
    cols = plan.upload(c);
    tileInfo = plan.upload(ti);
  }
  let WL: GPUBuffer | null = null;
  const linearPer = Math.min(LINEAR_PER_PASS, Math.floor(cap / (H * 4)));
  if (linear.length > 0) {
    const wl = new Float32Array(linear.length * H);
    linear.forEach((k, i) => wl.set(heads[k]!.w1, i * H));
    WL = plan.upload(wl);
  }
  const rangeBuf = plan.upload(ranges);

  for (let rep = 0; rep < repeat; rep++) for (let r0 = 0; r0 < B; r0 += rowsPer) {
    const rows = Math.min(rowsPer, B - r0);
    const a = ctx.range(A, r0 * H, rows * H, elem);
    const pr = ctx.range(partials, r0 * slots, rows * slots, 4);
    for (let t0 = 0; W && t0 < tiles; t0 += tilesPer) {
      const n = Math.min(tilesPer, tiles - t0);
      const w = ctx.range(W, t0 * TILE * H, n * TILE * H, 4);
      const c = ctx.range(cols!, t0 * TILE, n * TILE, 8);
      const ti = ctx.range(tileInfo!, t0, n, 8);
      plan.add('heads_gemm', 'main', Math.ceil(rows / TILE) * n,
        words([rows, H, dtype, a.base, w.base, c.base, ti.base, pr.base, slots, n]),
        [a.resource, w.resource, c.resource, ti.resource, pr.resource]);
    }
    for (let h0 = 0; WL && h0 < linear.length; h0 += linearPer) {
      const n = Math.min(linearPer, linear.length - h0);
      const wl = ctx.range(WL, h0 * H, n * H, 4);
      plan.add('heads_linear', 'main', rows,
        words([rows, H, dtype, a.base, wl.base, n, h0, pr.base, slots]),
        [a.resource, wl.resource, pr.resource]);
    }
    const o = ctx.range(outRows, r0 * K, rows * K, 4);
    plan.add('heads_finish', 'main', Math.ceil(rows / 64),
      words([rows, K, pr.base, slots, o.base]),
      [pr.resource, whole(rangeBuf), o.resource]);
  }
  return outRows;
}

/** Mean pooling passes: whole rows per dispatch when a row fits one binding, else token ranges of one row. */
function meanPool(plan: GpuPlan, p: HeadsProblem, mask: Uint8Array | null, pooled: GPUBuffer, cap: number,
  fits: (what: string, bytes: number) => void, repeat: number): void {
  const ctx = plan.ctx;
  const { B, T, H } = p;
  const elem = p.dtype === 'f32' ? 4 : 2;
  fits('one token of hidden states', H * elem);
  const inv = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    let n = T;
    if (mask) { n = 0; for (let t = 0; t < T; t++) n += mask[b * T + t] ? 1 : 0; }
    inv[b] = 1 / Math.max(n, 1);
  }
  const hidden = plan.upload(p.hidden);
  const maskBuf = mask ? plan.upload(mask) : plan.dummy;
  const invBuf = plan.upload(inv);
  const dtype = DTYPE[p.dtype];
  const pass = (r0: number, rows: number, t0: number, t1: number) => {
    const a = ctx.range(hidden, (r0 * T + t0) * H, rows === 1 ? (t1 - t0) * H : rows * T * H, elem);
    const m = mask ? ctx.range(maskBuf, r0 * T, rows * T, 1) : { resource: whole(maskBuf), base: 0 };
    const iv = ctx.range(invBuf, r0, rows, 4);
    const po = ctx.range(pooled, r0 * H, rows * H, 4);
    const flags = (mask ? 1 : 0) | (t0 === 0 ? 2 : 0) | (t1 === T ? 4 : 0);
    plan.add('heads_pool', 'main', Math.ceil((rows * H) / 64),
      words([rows, T, H, dtype, t0, t1, a.base, rows === 1 ? (t1 - t0) * H : T * H, m.base, po.base, iv.base, flags]),
      [a.resource, m.resource, iv.resource, po.resource]);
  };
  const rowBytes = T * H * elem;
  for (let rep = 0; rep < repeat; rep++) {
    if (rowBytes <= cap && T <= cap) {
      const rowsPer = Math.max(1, Math.floor(Math.min(cap / rowBytes, cap / (H * 4), cap / T)));
      for (let r0 = 0; r0 < B; r0 += rowsPer) pass(r0, Math.min(rowsPer, B - r0), 0, T);
    } else {
      fits('one row of pooled states', H * 4);
      const tokensPer = Math.floor(cap / (H * elem));
      for (let b = 0; b < B; b++) for (let t0 = 0; t0 < T; t0 += tokensPer) pass(b, 1, t0, Math.min(T, t0 + tokensPer));
    }
  }
}
