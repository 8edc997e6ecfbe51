/**
 * The KL ops on WebGPU: shaders/kl_penalty.wgsl per token (estimate + gradients, or estimate +
 * rewards), then for inRewardKl shaders/kl_row_sums.wgsl per row segment; one submission, one
 * mapped read. Token arrays go in chunks of whole 1024-token blocks that fit one binding
 * (ctx.maxBinding), so no input size is refused.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { TokenLayout } from '../layout.js';
import type { KlCode, KlProblem } from './kl.js';
import type { KlRewardProblem } from './reward.js';
import { batchMeanKl } from './reward.js';

/** Tokens per chunk: whole 1024-token blocks (aligned binding offsets for f32 and u8 arrays). */
const chunkOf = (ctx: GpuContext) => Math.max(1024, Math.floor(ctx.maxBinding / 4096) * 1024);

interface Elementwise {
  layout: TokenLayout;
  logProbs: Float32Array;
  refLogProbs: Float32Array;
  code: KlCode;
  flags: number;
  beta: number;
  scores: GPUBuffer | null;
  kl: GPUBuffer;
  a: GPUBuffer;
  b: GPUBuffer;
}

/** Add the per-token passes; `a`/`b` are the gradient or reward outputs (tiny when unused). */
function addElementwise(plan: GpuPlan, e: Elementwise, mask: GPUBuffer | null): void {
  const ctx = plan.ctx;
  const lp = plan.upload(e.logProbs), rp = plan.upload(e.refLogProbs);
  const n = e.layout.tokens, chunk = chunkOf(ctx);
  const span = (buffer: GPUBuffer, t0: number, count: number, bytes: number) =>
    buffer.size >= (t0 + count) * bytes ? ctx.range(buffer, t0, count, bytes).resource : whole(buffer);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const count = Math.min(chunk, n - t0);
    const mk = mask ? ctx.range(mask, t0, count, 1) : { resource: whole(plan.dummy), base: 0 };
    plan.add('kl_penalty', 'main', Math.ceil(count / 256),
      words([count, e.code, e.flags | (mask ? 1 : 0), mk.base, { f32: e.beta }, 0, 0, 0]),
      [span(lp, t0, count, 4), span(rp, t0, count, 4), mk.resource, e.scores ? span(e.scores, t0, count, 4) : whole(plan.dummy),
        span(e.kl, t0, count, 4), span(e.a, t0, count, 4), span(e.b, t0, count, 4)]);
  }
}

export async function klPenaltyWebgpu(p: KlProblem, context?: GpuContext): Promise<void> {
  const plan = new GpuPlan(context ?? (await getContext()));
  try {
    const n = p.layout.tokens;
    if (n === 0) return;
    const U = GPUBufferUsage;
    const grads = p.outGrad !== null;
    const kl = plan.scratch(n * 4, U.COPY_SRC);
    const a = plan.scratch(grads ? n * 4 : 4, U.COPY_SRC), b = plan.scratch(grads ? n * 4 : 4, U.COPY_SRC);
    const mask = p.layout.mask ? plan.upload(p.layout.mask) : null;
    addElementwise(plan, { ...p, flags: (grads ? 2 : 0) | (p.straightThrough ? 4 : 0), beta: 0, scores: null, kl, a, b }, mask);
    await plan.run();
    await plan.read(grads ? [[kl, p.outKl], [a, p.outGrad!], [b, p.outGradRef!]] : [[kl, p.outKl]]);
  } finally {
    plan.release();
  }
}

/**
 * Row segments for the row-sum pass: each row's tokens split at chunk boundaries, as
 * [chunk-local start, count] pairs grouped by chunk, with the row each belongs to.
 */
function segmentsOf(layout: TokenLayout, chunk: number): { pairs: Uint32Array; rowOf: Uint32Array; perChunk: number[] } {
  const pairs: number[] = [], rowOf: number[] = [], perChunk: number[] = [];
  const { rows, offsets, tokens } = layout;
  let row = 0;
  for (let c0 = 0; c0 < tokens; c0 += chunk) {
    const c1 = Math.min(tokens, c0 + chunk);
    let count = 0;
    while (row < rows && offsets[row + 1]! <= c0) row++;
    for (let i = row; i < rows && offsets[i]! < c1; i++) {
      const s = Math.max(offsets[i]!, c0), e = Math.min(offsets[i + 1]!, c1);
      if (e > s) { pairs.push(s - c0, e - s); rowOf.push(i); count++; }
    }
    perChunk.push(count);
  }
  return { pairs: Uint32Array.from(pairs), rowOf: Uint32Array.from(rowOf), perChunk };
}

export async function inRewardKlWebgpu(p: KlRewardProblem, context?: GpuContext): Promise<number> {
  const plan = new GpuPlan(context ?? (await getContext()));
  const ctx = plan.ctx;
  try {
    const { layout } = p;
    const n = layout.tokens;
    if (n === 0) return batchMeanKl(new Float64Array(layout.rows), new Float64Array(layout.rows));
    const U = GPUBufferUsage;
    const kl = plan.scratch(n * 4, U.COPY_SRC), rewards = plan.scratch(n * 4, U.COPY_SRC), unused = plan.scratch(4);
    const mask = layout.mask ? plan.upload(layout.mask) : null;
    addElementwise(plan, { ...p, flags: 8, scores: plan.upload(p.scores), kl, a: rewards, b: unused }, mask);

    // Row sums: per chunk, its segments in dispatches that keep `segs` and `out` within a binding.
    const chunk = chunkOf(ctx);
    const seg = segmentsOf(layout, chunk);
    const total = seg.rowOf.length;
    const segs = plan.upload(seg.pairs.length ? seg.pairs : new Uint32Array(2));
    const partial = plan.scratch(Math.max(total, 1) * 8, U.COPY_SRC);
    const perDispatch = Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 8);
    let first = 0;
    seg.perChunk.forEach((count, c) => {
      const t0 = c * chunk, tokens = Math.min(chunk, n - t0);
      const klRange = ctx.range(kl, t0, tokens, 4).resource;
      const mk = mask ? ctx.range(mask, t0, tokens, 1) : { resource: whole(plan.dummy), base: 0 };
      for (let s0 = first; s0 < first + count; s0 += perDispatch) {
        const m = Math.min(perDispatch, first + count - s0);
        const sg = ctx.range(segs, s0, m, 8), out = ctx.range(partial, s0, m, 8);
        plan.add('kl_row_sums', 'main', m, words([m, sg.base, mask ? 1 : 0, mk.base]), [klRange, mk.resource, sg.resource, out.resource]);
      }
      first += count;
    });
    await plan.run();
    const partials = new Uint32Array(total * 2);
    await plan.read([[kl, p.outKl], [rewards, p.outRewards], [partial, partials]]);

    const sums = new Float64Array(layout.rows), counts = new Float64Array(layout.rows);
    const asFloat = new Float32Array(partials.buffer);
    for (let s = 0; s < total; s++) { sums[seg.rowOf[s]!] += asFloat[2 * s]!; counts[seg.rowOf[s]!] += partials[2 * s + 1]!; }
    return batchMeanKl(sums, counts);
  } finally {
    plan.release();
  }
}
