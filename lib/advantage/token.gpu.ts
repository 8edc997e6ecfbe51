/**
 * The token estimators on WebGPU: the backward scan (token_scan.wgsl, one thread per row, chunks of
 * whole rows within the binding limit), then for REINFORCE++ and GAE the whole-batch whitening
 * (two-pass tree-reduced partials and an elementwise pass, masked.gpu.ts), all in one submission
 * and one read of advantages, returns and the statistics.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { checkRows, encodeApply, encodeBatchStats, maskRange, rowChunks } from './masked.gpu.js';
import { estimatorCode, type TokenProblem, type TokenRaw } from './token.js';

export async function tokenWebgpu(p: TokenProblem, context?: GpuContext): Promise<TokenRaw> {
  const ctx = context ?? (await getContext());
  const { layout } = p;
  checkRows(ctx, layout.rows, 4, 'rewards');
  const plan = new GpuPlan(ctx);
  try {
    const U = GPUBufferUsage;
    const bytes = layout.tokens * 4;
    const rewards = plan.upload(p.rewards);
    const values = p.values ? plan.upload(p.values) : null;
    const mask = layout.mask ? plan.upload(layout.mask) : null;
    const offsets = plan.upload(layout.offsets);
    const baselines = p.baselines ? plan.upload(p.baselines) : plan.dummy;
    const adv = plan.scratch(bytes, U.COPY_SRC);
    const ret = plan.scratch(bytes, U.COPY_SRC);

    const flags = (mask ? 1 : 0) | (estimatorCode[p.estimator] << 8);
    const cap = Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4);
    for (const [r0, r1] of rowChunks(layout, cap, 'rewards')) {
      const t0 = layout.offsets[r0]!, count = layout.offsets[r1]! - t0;
      if (count === 0) continue; // only empty rows: nothing to write
      const at = (b: GPUBuffer) => ctx.range(b, t0, count, 4);
      const r = at(rewards), m = maskRange(plan, mask, t0, count);
      plan.add('token_scan', 'main', Math.ceil((r1 - r0) / 64),
        words([r0, r1 - r0, t0, r.base, m.base, flags, { f32: p.gamma }, { f32: p.gamma * p.lambda }]),
        [r.resource, values ? at(values).resource : whole(plan.dummy), m.resource, whole(offsets), whole(baselines), at(adv).resource, at(ret).resource]);
    }
    let stat: GPUBuffer | null = null;
    if (p.estimator !== 'remax') {
      // REINFORCE++ whitens its returns, written into `adv` by the scan; GAE its advantages.
      const openrlhf = p.estimator === 'gae-openrlhf';
      stat = encodeBatchStats(plan, adv, mask, layout.tokens, { unbiased: !openrlhf, openrlhf });
      encodeApply(plan, adv, mask, stat, offsets, layout, false, p.estimator === 'reinforce');
    }
    await plan.run();
    const raw = new Uint32Array(8);
    await plan.read([[adv, p.outAdvantages], [ret, p.outReturns], ...(stat ? [[stat, raw] as [GPUBuffer, ArrayBufferView]] : [])]);
    return { count: raw[1]! };
  } finally {
    plan.release();
  }
}
