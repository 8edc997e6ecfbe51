/**
 * The DAPO overlong penalty on WebGPU (token_overlong.wgsl): one workgroup per row counts the row's
 * trained tokens (or reads the given length) and writes the penalty, in f32 (lengths above 2^24
 * round). Masks beyond the binding limit are bound in chunks of whole rows.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { checkRows, maskRange, rowChunks } from './masked.gpu.js';
import type { OverlongProblem } from './overlong.js';

export async function overlongWebgpu(p: OverlongProblem, context?: GpuContext): Promise<void> {
  const ctx = context ?? (await getContext());
  checkRows(ctx, p.rows, 4, 'lengths');
  const plan = new GpuPlan(ctx);
  try {
    const U = GPUBufferUsage;
    const layout = p.layout;
    const mask = layout?.mask ? plan.upload(layout.mask) : null;
    const offsets = layout ? plan.upload(layout.offsets) : plan.dummy;
    const lengths = p.lengths ? plan.upload(Float32Array.from(p.lengths)) : plan.dummy;
    const scores = p.scores ? plan.upload(p.scores) : plan.dummy;
    const penalties = plan.scratch(p.rows * 4, U.COPY_SRC);
    const outScores = p.scores ? plan.scratch(p.rows * 4, U.COPY_SRC) : plan.scratch(4);
    const flags = (mask ? 1 : 0) | (p.lengths ? 2 : 0) | (p.paper ? 4 : 0) | (p.scores ? 8 : 0);
    const tail = [{ f32: p.maxLength }, { f32: p.buffer }, { f32: p.factor }];
    const bind = (m: GPUBufferBinding) => [m, whole(offsets), whole(lengths), whole(scores), whole(penalties), whole(outScores)];
    if (!layout) {
      plan.add('token_overlong', 'main', p.rows, words([0, p.rows, 0, 0, flags, ...tail]), bind(whole(plan.dummy)));
    } else {
      const cap = ctx.maxBinding - ctx.offsetAlignment;
      for (const [r0, r1] of rowChunks(layout, cap, 'mask')) {
        const t0 = layout.offsets[r0]!, count = layout.offsets[r1]! - t0;
        const m = count ? maskRange(plan, mask, t0, count) : { resource: whole(plan.dummy), base: 0 };
        plan.add('token_overlong', 'main', r1 - r0, words([r0, r1 - r0, t0, m.base, flags, ...tail]), bind(m.resource));
      }
    }
    await plan.run();
    await plan.read(p.outScores ? [[penalties, p.outPenalties], [outScores, p.outScores]] : [[penalties, p.outPenalties]]);
  } finally {
    plan.release();
  }
}
