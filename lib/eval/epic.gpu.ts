/**
 * Tabular EPIC on WebGPU: row means (shaders/eval_epic_rows.wgsl) → potentials m(s), m̄ on the host
 * in f64 (S·A values) → canonical rewards and weighted moments (shaders/eval_epic_moments.wgsl),
 * added on the host in f64. Tables go in runs of whole rows, each run in its own buffers.
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { pearsonToDistance } from './epic.ref.js';
import { pearsonFromMoments, type EpicProblem, type EpicResult } from './epic.js';
import { asF32, bindingCap, PART, sized, sumPartials, WG } from './gpu.js';

export async function epicWebgpu(p: EpicProblem, context?: GpuContext): Promise<EpicResult> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const S = p.states, A = p.actions, rows = S * A, n = p.size;
    const cap = bindingCap(plan);
    if (S > cap) throw new RewardkitError('E_RANGE', `Expected at most ${cap} states on this GPU (one row of S rewards per storage binding) but received ${S}`, 'shape');
    const rowsPer = Math.floor(cap / S);
    const A32 = asF32(p.rewardA), B32 = asF32(p.rewardB), W32 = p.weights ? asF32(p.weights) : null;
    const dist = p.stateDist ? plan.upload(asF32(p.stateDist)) : plan.dummy;
    const msa = plan.scratch(2 * rows * 4, GPUBufferUsage.COPY_SRC);
    // Runs of whole rows; each run's tables get their own buffers (none larger than one binding).
    const runs: Array<{ r0: number; k: number; a: GPUBuffer; b: GPUBuffer }> = [];
    for (let r0 = 0; r0 < rows; r0 += rowsPer) {
      const k = Math.min(rowsPer, rows - r0), e0 = r0 * S, e1 = e0 + k * S;
      const run = { r0, k, a: plan.upload(A32.subarray(e0, e1)), b: plan.upload(B32.subarray(e0, e1)) };
      runs.push(run);
      for (const [t, table] of [run.a, run.b].entries()) {
        const o = ctx.range(msa, t * rows + r0, k, 4);
        plan.add('eval_epic_rows', 'main', Math.ceil(k / 64), words([k, S, 0, o.base, p.stateDist ? 1 : 0]), [sized(table, k * S), whole(dist), o.resource]);
      }
    }
    await plan.run();
    const rowMeans = new Float32Array(2 * rows);
    await plan.read([[msa, rowMeans]]);
    // m(s) = E_A[row mean], m̄ = E_S[m]: S·A values, in f64 as the reference.
    const pot = new Float32Array(2 * S), mbar = [0, 0];
    for (let t = 0; t < 2; t++) {
      let total = 0;
      for (let s = 0; s < S; s++) {
        let acc = 0;
        for (let a = 0; a < A; a++) acc += (p.actionDist ? p.actionDist[a]! : 1 / A) * rowMeans[t * rows + s * A + a]!;
        pot[t * S + s] = acc;
        total += (p.stateDist ? p.stateDist[s]! : 1 / S) * acc;
      }
      mbar[t] = total;
    }
    const potBuf = plan.upload(pot);
    const result: EpicResult = { distance: NaN, pearson: NaN, backend: 'webgpu' };
    if (p.canonical) { result.canonicalA = new Float32Array(n); result.canonicalB = new Float32Array(n); }
    const reads: Array<[GPUBuffer, ArrayBufferView]> = [];
    const parts: Float32Array[] = [];
    for (const run of runs) {
      const e0 = run.r0 * S, k = run.k * S, groups = Math.ceil(k / WG);
      const part = plan.scratch(groups * PART * 4, GPUBufferUsage.COPY_SRC);
      parts.push(new Float32Array(groups * PART));
      reads.push([part, parts[parts.length - 1]!]);
      const out = (host: Float32Array | undefined) => {
        if (!host) return sized(plan.scratch(16), 4); // unwritten; its own buffer (the dummy is bound read-only)
        const b = plan.scratch(k * 4, GPUBufferUsage.COPY_SRC);
        reads.push([b, host.subarray(e0, e0 + k)]);
        return sized(b, k);
      };
      plan.add('eval_epic_moments', 'main', groups,
        words([k, e0, 0, S, A, W32 ? 1 : 0, p.canonical ? 1 : 0, 0, { f32: p.discount }, { f32: p.discount * mbar[0]! }, { f32: p.discount * mbar[1]! }]),
        [sized(run.a, k), sized(run.b, k), whole(potBuf), W32 ? sized(plan.upload(W32.subarray(e0, e0 + k)), k) : whole(plan.dummy),
          out(result.canonicalA), out(result.canonicalB), sized(part, groups * PART)]);
    }
    await plan.run();
    await plan.read(reads);
    const [sw, sa, sb, saa, sbb, sab, nans] = sumPartials(parts, 7) as number[];
    if (nans! > 0 || Number.isNaN(mbar[0]!) || Number.isNaN(mbar[1]!)) return result;
    const rho = pearsonFromMoments({ w: sw!, a: sa!, b: sb!, aa: saa!, bb: sbb!, ab: sab! });
    result.pearson = rho;
    result.distance = pearsonToDistance(rho);
    return result;
  } finally {
    plan.release();
  }
}
