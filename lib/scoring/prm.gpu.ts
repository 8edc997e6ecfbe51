/**
 * Step aggregation and Clip/Delta on WebGPU (shaders/scoring_prm.wgsl): one thread per response,
 * responses in runs whose steps and offsets fit one binding each; one submission, one read.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { stepAggregations, type AggregateProblem, type ClipDeltaProblem, type StepsProblem } from './prm.js';
import { bindingCap, rowRuns } from './running-stats.gpu.js';

async function runSteps(p: StepsProblem, context: GpuContext | undefined, entry: 'aggregate' | 'clip_delta', method: number,
  emptyValue: number, success: Float32Array | null, out: Float32Array): Promise<void> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const offs = plan.upload(p.offsets);
    const scores = p.steps ? plan.upload(p.scores) : plan.dummy;
    const outBuf = plan.scratch(out.length * 4, GPUBufferUsage.COPY_SRC);
    const succ = success ? plan.upload(success) : plan.dummy;
    const agg = entry === 'aggregate';
    for (const run of rowRuns(p.rows, p.offsets, bindingCap(plan))) {
      const n = run.r1 - run.r0;
      const o = ctx.range(offs, run.r0, n + 1, 4);
      const s = run.e1 > run.e0 ? ctx.range(scores, run.e0, run.e1 - run.e0, 4) : { resource: whole(scores), base: 0 };
      // aggregate writes one value per response; clip_delta one per step (responses without steps write nothing).
      const ob = agg ? ctx.range(outBuf, run.r0, n, 4) : run.e1 > run.e0 ? ctx.range(outBuf, run.e0, run.e1 - run.e0, 4) : null;
      if (!ob) continue;
      const sc = success ? ctx.range(succ, run.r0, n, 4) : { resource: whole(succ), base: 0 };
      const bindings = [o.resource, s.resource, ob.resource];
      if (!agg) bindings.push(sc.resource);
      plan.add('scoring_prm', entry, Math.ceil(n / 64),
        words([n, o.base, run.e0, agg ? s.base : ob.base, method, agg ? ob.base : sc.base, 0, { f32: emptyValue }]), bindings);
    }
    await plan.run();
    if (out.length) await plan.read([[outBuf, out]]);
  } finally {
    plan.release();
  }
}

export function aggregateStepsWebgpu(p: AggregateProblem, context?: GpuContext): Promise<void> {
  return runSteps(p, context, 'aggregate', stepAggregations.indexOf(p.method), p.emptyValue, null, p.out);
}

export function clipDeltaWebgpu(p: ClipDeltaProblem, context?: GpuContext): Promise<void> {
  // Steps of empty responses do not exist, so every output slot is written by its response.
  const method = (p.clip ? 1 : 0) | (p.delta ? 2 : 0) | (p.success ? 4 : 0);
  return runSteps(p, context, 'clip_delta', method, 0, p.success, p.out);
}
