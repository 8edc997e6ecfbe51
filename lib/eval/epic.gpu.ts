/**
 * Tabular EPIC on WebGPU: row means (shaders/eval_epic_rows.wgsl) → potentials m(s), m̄ on the host
 * in f64 (S·A values) → canonical rewards and weighted moments (shaders/eval_epic_moments.wgsl),
 * added on the host in f64. Tables go in runs of whole rows that fit one storage binding.
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { pearsonToDistance } from './epic.ref.js';
import { pearsonFromMoments, type EpicProblem, type EpicResult } from './epic.js';
import { asF32, bindingCap, PART, sumPartials, WG } from './gpu.js';

export async function epicWebgpu(p: EpicProblem, context?: GpuContext): Promise<EpicResult> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const S = p.states, A = p.actions, rows = S * A, n = p.size;
    const cap = bindingCap(plan);
    if (S > cap) throw new RewardkitError('E_RANGE', `Expected at most ${cap} states on this GPU (one row of S rewards per storage binding) but received ${S}`, 'shape');
    const rowsPer = Math.min(Math.floor(cap / S), cap);
    const ra = plan.upload(asF32(p.rewardA)), rb = plan.upload(asF32(p.rewardB));
    const dist = p.stateDist ? plan.upload(asF32(p.stateDist)) : plan.dummy;
    const msa = plan.scratch(2 * rows * 4, GPUBufferUsage.COPY_SRC);
    for (const [t, table] of [ra, rb].entries()) {
      for (let r0 = 0; r0 < rows; r0 += rowsPer) {
        const k = Math.min(rowsPer, rows - r0);
        const v = ctx.range(table, r0 * S, k * S, 4), o = ctx.range(msa, t * rows + r0, k, 4);
        plan.add('eval_epic_rows', 'main', Math.ceil(k / 64), words([k, S, v.base, o.base, p.stateDist ? 1 : 0]), [v.resource, whole(dist), o.resource]);
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
    const w = p.weights ? plan.upload(asF32(p.weights)) : null;
    const ca = p.canonical ? plan.scratch(n * 4, GPUBufferUsage.COPY_SRC) : null, cb = p.canonical ? plan.scratch(n * 4, GPUBufferUsage.COPY_SRC) : null;
    const per = Math.max(WG, Math.floor(Math.min(cap, rowsPer * S) / WG) * WG);
    const parts: Array<[GPUBuffer, Float32Array]> = [];
    for (let s0 = 0; s0 < n; s0 += per) {
      const k = Math.min(per, n - s0), groups = Math.ceil(k / WG);
      const part = plan.scratch(groups * PART * 4, GPUBufferUsage.COPY_SRC);
      parts.push([part, new Float32Array(groups * PART)]);
      const va = ctx.range(ra, s0, k, 4);
      const out = (b: GPUBuffer | null) => (b ? ctx.range(b, s0, k, 4).resource : whole(plan.scratch(16)));
      plan.add('eval_epic_moments', 'main', groups,
        words([k, s0, va.base, S, A, w ? 1 : 0, p.canonical ? 1 : 0, 0, { f32: p.discount }, { f32: p.discount * mbar[0]! }, { f32: p.discount * mbar[1]! }]),
        [va.resource, ctx.range(rb, s0, k, 4).resource, whole(potBuf), w ? ctx.range(w, s0, k, 4).resource : whole(plan.dummy), out(ca), out(cb), whole(part)]);
    }
    await plan.run();
    const result: EpicResult = { distance: NaN, pearson: NaN, backend: 'webgpu' };
    const reads: Array<[GPUBuffer, ArrayBufferView]> = [...parts];
    if (ca && cb) {
      result.canonicalA = new Float32Array(n);
      result.canonicalB = new Float32Array(n);
      reads.push([ca, result.canonicalA], [cb, result.canonicalB]);
    }
    await plan.read(reads);
    const [sw, sa, sb, saa, sbb, sab, nans] = sumPartials(parts.map((x) => x[1]), 7) as number[];
    if (nans! > 0 || Number.isNaN(mbar[0]!) || Number.isNaN(mbar[1]!)) return result;
    const rho = pearsonFromMoments({ w: sw!, a: sa!, b: sb!, aa: saa!, bb: sbb!, ab: sab! });
    result.pearson = rho;
    result.distance = pearsonToDistance(rho);
    return result;
  } finally {
    plan.release();
  }
}
