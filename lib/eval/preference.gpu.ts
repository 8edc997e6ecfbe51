/**
 * Bradley–Terry on WebGPU (shaders/eval_bt.wgsl, one thread per pair): pairs go in chunks whose
 * buffers each fit one storage binding; workgroup partial sums are added on the host in f64.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { BtSums } from './preference.ref.js';
import type { BtProblem } from './preference.js';
import { asF32, bindingCap, PART, sized, sumPartials, WG } from './gpu.js';

export async function btWebgpu(p: BtProblem, context?: GpuContext): Promise<BtSums> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const n = p.pairs, c = asF32(p.chosen), r = asF32(p.rejected), m = p.margin ? asF32(p.margin) : null;
    const per = Math.max(WG, Math.floor(bindingCap(plan) / WG) * WG);
    const reads: Array<[GPUBuffer, ArrayBufferView]> = [];
    const parts: Float32Array[] = [];
    // Each chunk has its own buffers (no buffer larger than one binding, whatever maxBufferSize is).
    for (let s = 0; s < n; s += per) {
      const k = Math.min(per, n - s), groups = Math.ceil(k / WG);
      const prob = plan.scratch(k * 4, GPUBufferUsage.COPY_SRC), loss = plan.scratch(k * 4, GPUBufferUsage.COPY_SRC);
      const part = plan.scratch(groups * PART * 4, GPUBufferUsage.COPY_SRC);
      parts.push(new Float32Array(groups * PART));
      reads.push([prob, p.probabilities.subarray(s, s + k)], [loss, p.losses.subarray(s, s + k)], [part, parts[parts.length - 1]!]);
      plan.add('eval_bt', 'main', groups,
        words([k, 0, m ? 1 : 0, 0, { f32: p.marginValue }, { f32: p.labelSmoothing }]),
        [sized(plan.upload(c.subarray(s, s + k)), k), sized(plan.upload(r.subarray(s, s + k)), k), m ? sized(plan.upload(m.subarray(s, s + k)), k) : whole(plan.dummy),
          sized(prob, k), sized(loss, k), sized(part, groups * PART)]);
    }
    await plan.run();
    await plan.read(reads);
    const [sl, sq, wins, ties, nans] = sumPartials(parts, 5) as [number, number, number, number, number];
    return { loss: nans > 0 ? NaN : sl, square: nans > 0 ? NaN : sq, wins, ties };
  } finally {
    plan.release();
  }
}
