/**
 * Process-supervision advantages on WebGPU: normalised step rewards per group
 * (outcome_process_steps), then per row the reverse cumulative sum of the steps placed at their end
 * tokens (outcome_process_tokens), chunks of whole rows under the binding limit; one mapped read.
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { groupCsr } from '../layout.js';
import { checkRowBinding } from './outcome.gpu.js';
import type { ProcessProblem } from './process.js';

export async function processWebgpu(p: ProcessProblem, context?: GpuContext): Promise<void> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  const { layout } = p;
  checkRowBinding(ctx, layout.rows, 'stepOffsets');
  if (p.steps * 4 > ctx.maxBinding) throw new RewardkitError('E_RANGE', `Expected at most ${Math.floor(ctx.maxBinding / 4)} steps on this GPU (one binding) but received ${p.steps}`, 'stepRewards');
  const U = GPUBufferUsage;
  try {
    const offsets = plan.upload(layout.offsets);
    const mask = layout.mask ? plan.upload(layout.mask) : null;
    const stepOffsets = plan.upload(p.stepOffsets);
    const stepEnds = plan.upload(p.stepEnds);
    const stepAdv = plan.scratch(p.steps * 4, U.COPY_SRC);
    const csr = groupCsr(p.groupIds, p.numGroups);
    const out = plan.scratch(layout.tokens * 4, U.COPY_SRC);
    plan.add('outcome_process_steps', 'main', Math.ceil(p.numGroups / 64), words([p.numGroups, 0, 0, 0, { f32: p.epsilon }, 0, 0, 0]),
      [whole(plan.upload(p.stepRewards)), whole(stepOffsets), whole(plan.upload(csr.start)), whole(plan.upload(csr.members)), whole(stepAdv)]);
    const cap = Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4);
    const off = layout.offsets;
    for (let r0 = 0; r0 < layout.rows;) {
      let r1 = r0 + 1;
      if (off[r1]! - off[r0]! > cap) throw new RewardkitError('E_RANGE', `Expected rows of at most ${cap} tokens on this GPU (one binding) but row ${r0} has ${off[r1]! - off[r0]!}`, 'offsets');
      while (r1 < layout.rows && off[r1 + 1]! - off[r0]! <= cap) r1++;
      const t0 = off[r0]!, count = off[r1]! - t0;
      const o = ctx.range(out, t0, Math.max(count, 1), 4);
      const mk = mask ? ctx.range(mask, t0, Math.max(count, 1), 1) : { resource: whole(plan.dummy), base: 0 };
      plan.add('outcome_process_tokens', 'main', Math.ceil((r1 - r0) / 64), words([r0, r1 - r0, t0, o.base, mk.base, mask ? 1 : 0, 0, 0]),
        [whole(stepAdv), whole(stepOffsets), whole(stepEnds), whole(offsets), mk.resource, o.resource]);
      r0 = r1;
    }
    await plan.run();
    await plan.read([[stepAdv, p.outSteps], [out, p.outTokens]]);
  } finally {
    plan.release();
  }
}
