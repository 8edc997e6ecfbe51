/**
 * DAPO's dynamic-sampling filter on WebGPU: row sums of token-level scores (outcome_row_stats), a
 * keep flag per group (outcome_dynamic), then the kept row list built on the host from the flags
 * (an O(B) pass over the group ids). GPU row sums are f32 tree sums: with token-level scores a sum
 * can differ from the reference's f64-then-f32 sum in its last bit, which can flip an exact
 * equality; row-level scores are compared exactly as given.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { groupCsr } from '../layout.js';
import { addRowStats, checkRowBinding } from './outcome.gpu.js';
import type { DynamicProblem, DynamicRaw } from './dynamic.js';

export async function dynamicWebgpu(p: DynamicProblem, context?: GpuContext): Promise<DynamicRaw> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  const { layout } = p;
  checkRowBinding(ctx, layout.rows, 'scores');
  const U = GPUBufferUsage;
  try {
    const scoresIn = plan.upload(p.scores);
    const rowScores = p.tokenScores ? plan.scratch(layout.rows * 4, U.COPY_SRC) : scoresIn;
    const status = plan.upload(new Uint32Array([0xffffffff, 0]), U.COPY_SRC);
    if (p.tokenScores) {
      addRowStats(plan, layout, {
        scores: scoresIn, mask: layout.mask ? plan.upload(layout.mask) : null, offsets: plan.upload(layout.offsets),
        rowScores, rowLen: plan.scratch(layout.rows * 4), status,
      }, p.sumMasked);
    }
    const csr = groupCsr(p.groupIds, p.numGroups);
    const kept = plan.scratch(p.numGroups * 4, U.COPY_SRC);
    plan.add('outcome_dynamic', 'main', Math.ceil(p.numGroups / 64), words([p.numGroups, p.keepSingletons ? 1 : 0, 0, 0]),
      [whole(rowScores), whole(plan.upload(csr.start)), whole(plan.upload(csr.members)), whole(kept)]);
    await plan.run();
    const flags = new Uint32Array(p.numGroups), st = new Uint32Array(2);
    await plan.read([[kept, flags], [status, st]]);
    if (st[0] !== 0xffffffff) {
      const sums = new Float32Array(layout.rows);
      await plan.read([[rowScores, sums]]);
      return { badRow: st[0]!, badValue: sums[st[0]!]!, kept: 0, keptGroups: 0 };
    }
    let keptGroups = 0, n = 0;
    for (let g = 0; g < p.numGroups; g++) { p.groupKept[g] = flags[g]!; keptGroups += flags[g]!; }
    for (let i = 0; i < layout.rows; i++) if (p.groupKept[p.groupIds[i]!]) p.rowsOut[n++] = i;
    return { badRow: -1, badValue: 0, kept: n, keptGroups };
  } finally {
    plan.release();
  }
}
