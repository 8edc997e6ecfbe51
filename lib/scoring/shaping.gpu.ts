/**
 * PAR reward shaping on WebGPU (shaders/scoring_shaping.wgsl, one thread per response, in place on
 * an f32 copy of the rewards). Each pass that starts with meanstd / clipping / minmax first takes the
 * batch's moments on the GPU (scoring_moments.wgsl), reads the tile partials back, merges them and
 * updates the running stats on the host in f64, then passes the stats to the shader as uniforms.
 * Rows go in runs whose references fit one binding.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, words } from '../backends/webgpu/plan.js';
import { STEP, shapingPasses, type ShapingProblem } from './shaping.js';
import { bindingCap, GpuMoments, rowRuns } from './running-stats.gpu.js';

export async function shapingWebgpu(p: ShapingProblem, context?: GpuContext): Promise<void> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const vals = await encodeShaping(plan, p, plan.upload(p.rewards, GPUBufferUsage.COPY_SRC));
    await plan.run();
    await plan.read([[vals, p.out]]);
  } finally {
    plan.release();
  }
}

/**
 * Encode the shaping passes into `plan`, in place on the [B] f32 buffer `vals` (returned). A pass
 * that reads the running stats submits what the plan holds so far and reads back the batch's moment
 * tiles (32 bytes per 1,024 rewards): the stats are a host object merged in f64 across batches.
 * `onMoments` sees each batch's merged moments before the stats take them (the pipeline's NaN check).
 */
export async function encodeShaping(plan: GpuPlan, p: ShapingProblem, vals: GPUBuffer,
  onMoments?: (m: { n: number; nan: number; min: number; max: number }) => void): Promise<GPUBuffer> {
  const ctx = plan.ctx;
  const B = p.rows;
  const refs = p.refs.length ? plan.upload(p.refs) : plan.dummy;
  const offs = plan.upload(p.refOffsets);
  const lens = p.lengths ? plan.upload(p.lengths) : plan.dummy;
  const runs = rowRuns(B, p.refOffsets, bindingCap(plan));
  const flags = (p.ceil !== null ? 1 : 0) | (p.penalty ? 2 : 0) | (p.centered ? 4 : 0) | (p.sgfc ? 8 : 0) | (p.lsc ? 16 : 0)
    | (p.sigmoid << 5) | (p.tanh << 7) | (p.fittedPoly << 9);
  for (const steps of shapingPasses(p)) {
    let a = 0, b = 0;
    if (steps & (STEP.MEANSTD | STEP.CLIP | STEP.MINMAX)) {
      const m = new GpuMoments(plan);
      m.add(vals, 0, B);
      await plan.run();
      const t = (await m.collect()).get(0)!;
      onMoments?.(t);
      const s = p.stats;
      s.update({ n: t.n, mean: t.mean, variance: t.M2 / t.n, min: t.min, max: t.max });
      if (steps & STEP.MEANSTD) { a = s.mean; b = s.std > 0 ? s.std : 1; }
      else if (steps & STEP.CLIP) { a = s.mean - s.std; b = s.mean + s.std; }
      else { a = s.min; b = s.max - s.min; }
    }
    for (const run of runs) {
      const n = run.r1 - run.r0;
      const v = ctx.range(vals, run.r0, n, 4);
      const o = ctx.range(offs, run.r0, n + 1, 4);
      const rf = run.e1 > run.e0 ? ctx.range(refs, run.e0, run.e1 - run.e0, 4) : { resource: { buffer: refs }, base: 0 };
      const ln = p.lengths ? ctx.range(lens, run.r0, n, 4) : { resource: { buffer: lens }, base: 0 };
      plan.add('scoring_shaping', 'main', Math.ceil(n / 64),
        words([n, v.base, o.base, run.e0, rf.base, ln.base, steps, flags, p.maxRef, 0, 0, 0,
          { f32: p.ceil ?? 0 }, { f32: p.penalty?.validLength ?? 0 }, { f32: p.penalty?.coefficient ?? 0 }, { f32: p.k },
          { f32: a }, { f32: b }, 0, 0]),
        [v.resource, o.resource, rf.resource, ln.resource]);
    }
  }
  return vals;
}
