/**
 * The batched diffusion-loss kernels on WebGPU. Arrays larger than one binding are processed in
 * chunks (never refused); the latent reduction cuts rows into blocks of <= 4,096 elements that never
 * cross a chunk, so a row of any length works, and adds each row's block partials on the host in f64.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { ClipProblem, ClipRaw, LatentProblem } from './loss.js';

const BLOCK = 4096;

export async function clipRowsWebgpu(p: ClipProblem, context?: GpuContext): Promise<ClipRaw> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const U = GPUBufferUsage;
    const lp = plan.upload(p.logProb), old = plan.upload(p.oldLogProb), adv = plan.upload(p.advantages);
    const bytes = Math.ceil(p.n / 4) * 16;
    const ratio = plan.scratch(bytes, U.COPY_SRC), loss = plan.scratch(bytes, U.COPY_SRC), grad = plan.scratch(bytes, U.COPY_SRC);
    // Chunks of whole 1,024-element blocks keep every binding offset aligned.
    const chunk = Math.max(1024, Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4096) * 1024);
    for (let s = 0; s < p.n; s += chunk) {
      const count = Math.min(chunk, p.n - s);
      const r = [lp, old, adv, ratio, loss, grad].map((b) => ctx.range(b, s, count, 4));
      add(plan, r, count, p);
    }
    await plan.run();
    await plan.read([[ratio, p.out.ratio], [loss, p.out.loss], [grad, p.out.grad]]);
    return p.out;
  } finally {
    plan.release();
  }
}

function add(plan: GpuPlan, r: Array<{ resource: GPUBufferBinding; base: number }>, count: number, p: ClipProblem): void {
  // Every binding of a chunk starts at the same element offset (same alignment), so one base serves all.
  plan.add('diffusion_loss_clip', 'main', Math.ceil(count / 256),
    words([count, r[0]!.base, { f32: p.lo }, { f32: p.hi }, { f32: p.advClip }, 0, 0, 0]), r.map((x) => x.resource));
}

export async function latentRowsWebgpu(p: LatentProblem, context?: GpuContext): Promise<Float64Array> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  const total = p.rows * p.cols;
  try {
    const a = plan.upload(p.a), b = plan.upload(p.b);
    const chunk = Math.max(BLOCK, Math.floor((ctx.maxBinding - ctx.offsetAlignment) / (4 * BLOCK)) * BLOCK);
    // Blocks: [chunk-local start, count], and the row each belongs to.
    const blocks: number[] = [], rowOf: number[] = [];
    const dispatches: Array<{ start: number; count: number; first: number; n: number }> = [];
    for (let c0 = 0; c0 < total; c0 += chunk) {
      const c1 = Math.min(total, c0 + chunk), first = rowOf.length;
      for (let t = c0; t < c1;) {
        const row = Math.floor(t / p.cols);
        const end = Math.min(c1, (row + 1) * p.cols, t + BLOCK);
        blocks.push(t - c0, end - t);
        rowOf.push(row);
        t = end;
      }
      dispatches.push({ start: c0, count: c1 - c0, first, n: rowOf.length - first });
    }
    const partials = new Float32Array(Math.max(1, rowOf.length));
    if (rowOf.length) {
      const blockBuf = plan.upload(new Uint32Array(blocks));
      const partial = plan.scratch(partials.byteLength, GPUBufferUsage.COPY_SRC);
      for (const d of dispatches) {
        const ra = ctx.range(a, d.start, d.count, 4), rb = ctx.range(b, d.start, d.count, 4);
        plan.add('diffusion_loss_latent', 'main', d.n, words([d.n, d.first, ra.base, rb.base]),
          [ra.resource, rb.resource, whole(blockBuf), whole(partial)]);
      }
      await plan.run();
      await plan.read([[partial, partials]]);
    }
    const sums = new Float64Array(p.rows);
    for (let k = 0; k < rowOf.length; k++) sums[rowOf[k]!] += partials[k]!;
    return sums;
  } finally {
    plan.release();
  }
}
