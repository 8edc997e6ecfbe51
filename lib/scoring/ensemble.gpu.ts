/**
 * Ensemble aggregation on WebGPU (shaders/scoring_ensemble.wgsl, one thread per response). Rows go
 * in chunks whose K member slices fit one binding (a chunk other than the whole batch is gathered
 * on the host into a [K, rows] buffer). zNormalize first takes each model's moments on the GPU
 * (scoring_moments.wgsl), merged per model on the host in f64, then a second submission aggregates.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { ensembleMethods, type EnsembleProblem } from './ensemble.js';
import { bindingCap, GpuMoments } from './running-stats.gpu.js';

/** Rows [r0, r0 + n) of the batch whose member scores are the [K, n] buffer `buffer`. */
export interface EnsembleChunk { r0: number; n: number; buffer: GPUBuffer }

/** The row chunks the kernel takes: as many rows as let K member slices fit one binding. */
export function ensembleRows(plan: GpuPlan, K: number, B: number): Array<{ r0: number; n: number }> {
  const per = Math.max(1, Math.floor(bindingCap(plan) / K));
  const rows: Array<{ r0: number; n: number }> = [];
  for (let r0 = 0; r0 < B; r0 += per) rows.push({ r0, n: Math.min(per, B - r0) });
  return rows;
}

export async function ensembleWebgpu(p: EnsembleProblem, context?: GpuContext): Promise<void> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const K = p.members, B = p.rows;
    const chunks = ensembleRows(plan, K, B).map(({ r0, n }) => {
      let data = p.scores;
      if (n !== B) {
        data = new Float32Array(K * n);
        for (let k = 0; k < K; k++) data.set(p.scores.subarray(k * B + r0, k * B + r0 + n), k * n);
      }
      return { r0, n, buffer: plan.upload(data) };
    });
    const out = await encodeEnsemble(plan, p, chunks);
    await plan.run();
    await plan.read([[out, p.out]]);
  } finally {
    plan.release();
  }
}

/**
 * Encode the aggregation of the member scores in `chunks` (ensembleRows' split) into `plan` → the
 * [B] result buffer (COPY_SRC). With zNormalize this submits what the plan holds so far and reads
 * back the moment tiles (32 bytes per 1,024 scores) to merge them in f64; otherwise nothing runs.
 */
export async function encodeEnsemble(plan: GpuPlan, p: EnsembleProblem, chunks: EnsembleChunk[]): Promise<GPUBuffer> {
  const ctx = plan.ctx;
  const K = p.members, B = p.rows;
  const zstats = new Float32Array(2 * K);
  if (p.zNormalize) {
    const m = new GpuMoments(plan);
    for (const c of chunks) for (let k = 0; k < K; k++) m.add(c.buffer, k * c.n, c.n, k);
    await plan.run();
    const moments = await m.collect();
    for (let k = 0; k < K; k++) {
      const s = moments.get(k)!;
      const sd = Math.sqrt(s.M2 / B);
      zstats[2 * k] = s.nan ? NaN : s.mean;
      zstats[2 * k + 1] = sd === 0 ? 1 : sd; // zDivisor()
    }
  }
  const z = plan.upload(zstats);
  const out = plan.scratch(B * 4, GPUBufferUsage.COPY_SRC);
  for (const c of chunks) {
    const o = ctx.range(out, c.r0, c.n, 4);
    plan.add('scoring_ensemble', 'main', Math.ceil(c.n / 64),
      words([c.n, K, c.n, o.base, ensembleMethods.indexOf(p.method), p.ddof, p.zNormalize ? 1 : 0, 0, { f32: p.c }, { f32: p.lambda }]),
      [whole(c.buffer), whole(z), o.resource]);
  }
  return out;
}
