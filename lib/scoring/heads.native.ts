/**
 * scoreHeads on the native addon (native/heads.cc): one cache-blocked, multi-threaded f32 GEMM over
 * the concatenated first-layer columns of all K heads, with the activation and output layer fused
 * into its epilogue (double); off the main thread.
 */
import { callNative } from '../backends/native.js';
import type { HeadsProblem } from './heads.js';

/**
 * The heads as column tables: per column its head, b1 and w2, and each head's W1 as its own array
 * (`w1_k`): the addon reads rows from them directly, so no N·H copy is made per call.
 */
export function columnTables(p: HeadsProblem) {
  const { N, heads } = p;
  const colB1 = new Float32Array(N), colW2 = new Float32Array(N), colHead = new Uint32Array(N);
  let n = 0;
  heads.forEach((h, k) => {
    if (h.b1) colB1.set(h.b1, n);
    if (h.w2) colW2.set(h.w2, n); else colW2.fill(1, n, n + h.width);
    colHead.fill(k, n, n + h.width);
    n += h.width;
  });
  const headAct = Uint32Array.from(heads, (h) => h.act);
  const headConst = Float64Array.from(heads, (h) => h.c);
  const w1 = Object.fromEntries(heads.map((h, k) => [`w1_${k}`, h.w1]));
  return { ...w1, colB1, colW2, colHead, headAct, headConst };
}

export async function headsNative(p: HeadsProblem): Promise<void> {
  const pool = p.pool;
  await callNative('scoreHeads', {
    B: p.B, T: p.T, H: p.H, N: p.N, K: p.heads.length,
    dtype: p.dtype === 'f32' ? 0 : p.dtype === 'f16' ? 1 : 2,
    hiddenF32: p.dtype === 'f32' ? p.hidden : null,
    hiddenU16: p.dtype === 'f32' ? null : p.hidden,
    poolKind: pool === null ? 0 : pool.kind === 'index' ? 1 : 2,
    index: pool?.kind === 'index' ? pool.index : null,
    mask: pool?.kind === 'mean' ? pool.mask : null,
    ...columnTables(p),
    out: p.out,
  });
}
