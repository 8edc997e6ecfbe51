/**
 * Bradley–Terry on WebGPU (shaders/eval_bt.wgsl, one thread per pair): pairs go in chunks that fit
 * one storage binding; workgroup partial sums are added on the host in f64.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { BtSums } from './preference.ref.js';
import type { BtProblem } from './preference.js';
import { asF32, bindingCap, PART, sumPartials, WG } from './gpu.js';

export async function btWebgpu(p: BtProblem, context?: GpuContext): Promise<BtSums> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const n = p.pairs;
    const c = plan.upload(asF32(p.chosen)), r = plan.upload(asF32(p.rejected));
    const m = p.margin ? plan.upload(asF32(p.margin)) : null;
    const prob = plan.scratch(n * 4, GPUBufferUsage.COPY_SRC), loss = plan.scratch(n * 4, GPUBufferUsage.COPY_SRC);
    const per = Math.max(WG, Math.floor(bindingCap(plan) / WG) * WG);
    const parts: Array<[GPUBuffer, Float32Array]> = [];
    for (let s = 0; s < n; s += per) {
      const k = Math.min(per, n - s), groups = Math.ceil(k / WG);
      const part = plan.scratch(groups * PART * 4, GPUBufferUsage.COPY_SRC);
      parts.push([part, new Float32Array(groups * PART)]);
      const rc = ctx.range(c, s, k, 4);
      plan.add('eval_bt', 'main', groups,
        words([k, rc.base, m ? 1 : 0, 0, { f32: p.marginValue }, { f32: p.labelSmoothing }]),
        [rc.resource, ctx.range(r, s, k, 4).resource, m ? ctx.range(m, s, k, 4).resource : whole(plan.dummy),
          ctx.range(prob, s, k, 4).resource, ctx.range(loss, s, k, 4).resource, whole(part)]);
    }
    await plan.run();
    await plan.read([[prob, p.probabilities], [loss, p.losses], ...parts]);
    const [sl, sq, wins, ties, nans] = sumPartials(parts.map((x) => x[1]), 5) as [number, number, number, number, number];
    return { loss: nans > 0 ? NaN : sl, square: nans > 0 ? NaN : sq, wins, ties };
  } finally {
    plan.release();
  }
}
