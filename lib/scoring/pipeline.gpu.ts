/**
 * scorePipeline on WebGPU: every stage encoded into one GpuPlan, the scores never leaving the device.
 *  1. heads (encodeHeads) → scores [B, K] without the constants;
 *  2. pipeline_heads.wgsl adds each head's bias / b2 (in f32) and lays the scores out as the
 *     ensemble's [K, n] row chunks (ensembleRows: K member slices per binding);
 *  3. ensemble (encodeEnsemble) → rewards [B];
 *  4. shaping (encodeShaping), in place on those rewards;
 *  5. GRPO (encodeGrpo) with the rewards buffer as its row scores → row and token advantages.
 * One submission, then one mapped read of what `read` asks for. Two options add a small readback in
 * the middle, because their statistics are merged on the host in f64: ensemble `zNormalize` (the
 * per-model moments) and each shaping step that reads the running stats (meanstd / clipping /
 * minmax: the batch's moments, merged into the caller's RunningStats, a host object that persists
 * across batches). Each reads 32 bytes per 1,024 rows of tile moments and submits what was
 * encoded before it; the data itself stays on the device.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { encodeGrpo } from '../advantage/grpo.gpu.js';
import { encodeHeads } from './heads.gpu.js';
import { encodeEnsemble, ensembleRows, type EnsembleChunk } from './ensemble.gpu.js';
import { encodeShaping } from './shaping.gpu.js';
import { checkFinalScores, nonFiniteBeforeStats, type PipelineProblem } from './pipeline.js';

export async function pipelineWebgpu(p: PipelineProblem, context?: GpuContext): Promise<void> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const hp = p.heads, K = hp.heads.length, B = hp.B;
    const headScores = encodeHeads(plan, hp);
    const constants = plan.upload(Float32Array.from(hp.heads, (h) => h.c));
    const chunks: EnsembleChunk[] = ensembleRows(plan, K, B).map(({ r0, n }) => {
      const buffer = plan.scratch(K * n * 4, GPUBufferUsage.COPY_SRC);
      const src = ctx.range(headScores, r0 * K, n * K, 4);
      plan.add('pipeline_heads', 'main', Math.ceil((n * K) / 64), words([n * K, K, src.base, n]), [src.resource, whole(constants), whole(buffer)]);
      return { r0, n, buffer };
    });
    let rewards = await encodeEnsemble(plan, p.ensemble, chunks);
    if (p.shaping) {
      rewards = await encodeShaping(plan, p.shaping, rewards, (m) => {
        if (m.nan > 0 || !Number.isFinite(m.min) || !Number.isFinite(m.max)) nonFiniteBeforeStats(`${m.nan} NaN and min ${m.min}, max ${m.max}`);
      });
    }
    const adv = p.grpo ? encodeGrpo(plan, p.grpo, rewards) : null;
    await plan.run();

    const parts: Array<[GPUBuffer, ArrayBufferView]> = [];
    // The final rewards come back whenever advantages ran: GRPO's score rule is checked on them.
    if (p.read.has('scores') || p.grpo) parts.push([rewards, p.scores]);
    const perHead = p.read.has('perHead') ? chunks.map((c) => new Float32Array(K * c.n)) : [];
    perHead.forEach((host, i) => parts.push([chunks[i]!.buffer, host]));
    if (adv && p.read.has('tokenAdvantages')) parts.push([adv.tokenAdv, p.grpo!.outTokens]);
    if (adv && p.read.has('rowAdvantages')) parts.push([adv.rowAdv, p.grpo!.outRows]);
    if (parts.length) await plan.read(parts);
    perHead.forEach((host, i) => {
      const { r0, n } = chunks[i]!;
      for (let k = 0; k < K; k++) hp.out.set(host.subarray(k * n, (k + 1) * n), k * B + r0);
    });
    checkFinalScores(p, p.scores);
  } finally {
    plan.release();
  }
}
