/**
 * Token log-probs and entropy on WebGPU: logits_partial (one 256-thread workgroup per row segment →
 * an online softmax triple) then logits_finish (one thread per row → logp, entropy), one submission.
 * A segment is a whole row unless a row exceeds one binding (then rows are cut into segments);
 * dispatches take runs of whole segments that fit one binding, so any N·V runs, never refused.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { LogitsProblem } from './logprobs.js';

const PARTIAL_BYTES = 32; // struct Partial in the shaders
const FINISH_GROUP = 64;

export async function logprobsWebgpu(p: LogitsProblem, context?: GpuContext): Promise<void> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const N = p.rows, V = p.vocab;
    const elemBytes = p.dtype === 'bf16' ? 2 : 4;
    const slack = ctx.offsetAlignment + 8; // the binding offset aligns down; the size rounds up to words
    const cap = Math.floor((ctx.maxBinding - slack) / elemBytes); // logits per binding
    const segLen = Math.min(V, cap);
    const segs = Math.ceil(V / segLen);
    const units = N * segs;
    const maxUnits = Math.floor((ctx.maxBinding - slack) / PARTIAL_BYTES); // partials per binding

    const logits = plan.upload(p.logits);
    const labels = p.labels ? plan.upload(p.labels) : plan.dummy;
    const partials = plan.scratch(units * PARTIAL_BYTES);
    const outLogp = p.outLogProbs ? plan.scratch(N * 4, GPUBufferUsage.COPY_SRC) : plan.dummy;
    const outEntropy = p.outEntropy ? plan.scratch(N * 4, GPUBufferUsage.COPY_SRC) : plan.dummy;
    const flags = (p.dtype === 'bf16' ? 1 : 0) | (Math.fround(p.temperature) !== 1 ? 2 : 0) | (p.labels ? 4 : 0);

    // Pass 1: runs of whole segments. Rows that fit go many to a dispatch; cut rows one segment each.
    const unitStart = (u: number) => Math.floor(u / segs) * V + (u % segs) * segLen;
    const unitEnd = (u: number) => Math.floor(u / segs) * V + Math.min((u % segs + 1) * segLen, V);
    for (let u0 = 0; u0 < units;) {
      const u1 = segs === 1 ? Math.min(units, u0 + Math.max(1, Math.floor(cap / V)), u0 + maxUnits) : u0 + 1;
      const row0 = Math.floor(u0 / segs), rowLast = Math.floor((u1 - 1) / segs);
      const first = unitStart(u0);
      const lg = ctx.range(logits, first, unitEnd(u1 - 1) - first, elemBytes);
      const lb = p.labels ? ctx.range(labels, row0, rowLast - row0 + 1, 4) : { resource: whole(labels), base: 0 };
      const pt = ctx.range(partials, u0, u1 - u0, PARTIAL_BYTES);
      plan.add('logits_partial', 'main', u1 - u0,
        words([u1 - u0, V, segLen, segs, u0 % segs, lg.base, lb.base, pt.base, flags, { f32: p.temperature }]),
        [lg.resource, lb.resource, pt.resource]);
      u0 = u1;
    }
    // Pass 2: rows in runs whose partials and outputs fit one binding each.
    const rowsPer = Math.max(1, Math.floor(maxUnits / segs));
    const outFlags = (p.outLogProbs ? 1 : 0) | (p.outEntropy ? 2 : 0);
    for (let r0 = 0; r0 < N; r0 += rowsPer) {
      const count = Math.min(rowsPer, N - r0);
      const pt = ctx.range(partials, r0 * segs, count * segs, PARTIAL_BYTES);
      const lp = p.outLogProbs ? ctx.range(outLogp, r0, count, 4) : { resource: whole(outLogp), base: 0 };
      const en = p.outEntropy ? ctx.range(outEntropy, r0, count, 4) : { resource: whole(outEntropy), base: 0 };
      // Both outputs bind at the same row, so one base serves both (ranges align identically).
      plan.add('logits_finish', 'main', Math.ceil(count / FINISH_GROUP),
        words([count, segs, pt.base, p.outLogProbs ? lp.base : en.base, outFlags]),
        [pt.resource, lp.resource, en.resource]);
    }
    await plan.run();
    const reads: Array<[GPUBuffer, ArrayBufferView]> = [];
    if (p.outLogProbs) reads.push([outLogp, p.outLogProbs]);
    if (p.outEntropy) reads.push([outEntropy, p.outEntropy]);
    await plan.read(reads);
  } finally {
    plan.release();
  }
}
