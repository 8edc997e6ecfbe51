/**
 * Outcome estimators on WebGPU, one submission: row sums and trained-token counts
 * (outcome_row_stats) → row advantages per group (outcome_group_adv) → batch finishing for gpg and
 * reinforce++-baseline (outcome_batch) → token broadcast (outcome_broadcast); one mapped read at the
 * end. Token arrays are bound in chunks under maxStorageBufferBindingSize.
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { groupCsr, type TokenLayout } from '../layout.js';
import { builtinCodes, type BuiltinEstimator, type OutcomeProblem, type OutcomeRaw } from './outcome.js';

const LONG_ROW = 128; // from this mean row length one workgroup sums a row

/** Per-row arrays are bound whole: refuse sizes no binding can hold. */
export function checkRowBinding(ctx: GpuContext, rows: number, what: string): void {
  if ((rows + 1) * 4 > ctx.maxBinding) {
    throw new RewardkitError('E_RANGE', `Expected at most ${Math.floor(ctx.maxBinding / 4) - 1} rows on this GPU (per-row arrays must fit one ${ctx.maxBinding}-byte binding) but received ${rows}`, what);
  }
}

/** Row sums (when token-level) and trained counts into rowScores/rowLen, chunks of whole rows. */
export function addRowStats(plan: GpuPlan, layout: TokenLayout, bufs: { scores: GPUBuffer | null; mask: GPUBuffer | null; offsets: GPUBuffer; rowScores: GPUBuffer; rowLen: GPUBuffer; status: GPUBuffer }, sumMasked: boolean): void {
  const ctx = plan.ctx;
  const cap = Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4);
  const off = layout.offsets;
  for (let r0 = 0; r0 < layout.rows;) {
    let r1 = r0 + 1;
    if (off[r1]! - off[r0]! > cap) throw new RewardkitError('E_RANGE', `Expected rows of at most ${cap} tokens on this GPU (one binding) but row ${r0} has ${off[r1]! - off[r0]!}`, 'scores');
    while (r1 < layout.rows && off[r1 + 1]! - off[r0]! <= cap) r1++;
    const t0 = off[r0]!, count = off[r1]! - t0;
    const sc = bufs.scores ? ctx.range(bufs.scores, t0, count, 4) : { resource: whole(plan.dummy), base: 0 };
    const mk = bufs.mask ? ctx.range(bufs.mask, t0, count, 1) : { resource: whole(plan.dummy), base: 0 };
    const long = count / (r1 - r0) >= LONG_ROW;
    const flags = (bufs.scores ? 1 : 0) | (sumMasked ? 2 : 0) | (bufs.mask ? 4 : 0);
    plan.add('outcome_row_stats', long ? 'per_workgroup' : 'per_thread', long ? r1 - r0 : Math.ceil((r1 - r0) / 64),
      words([r0, r1 - r0, sc.base, mk.base, t0, flags, 0, 0]),
      [sc.resource, mk.resource, whole(bufs.offsets), whole(bufs.rowScores), whole(bufs.rowLen), whole(bufs.status)]);
    r0 = r1;
  }
}

/** Row values broadcast to trained tokens, chunks of whole 1024-token blocks. */
export function addBroadcast(plan: GpuPlan, layout: TokenLayout, rowValue: GPUBuffer, mask: GPUBuffer | null, offsets: GPUBuffer, out: GPUBuffer): void {
  const ctx = plan.ctx;
  const chunk = Math.floor(ctx.maxBinding / 4096) * 1024;
  for (let t0 = 0; t0 < layout.tokens; t0 += chunk) {
    const count = Math.min(chunk, layout.tokens - t0);
    const o = ctx.range(out, t0, Math.ceil(count / 4) * 4, 4);
    const mk = mask ? ctx.range(mask, t0, count, 1) : { resource: whole(plan.dummy), base: 0 };
    plan.add('outcome_broadcast', 'main', Math.ceil(count / 1024),
      words([count, t0, layout.cols, mask ? 1 : 0, layout.rows, mk.base, 0, 0]),
      [whole(rowValue), mk.resource, whole(offsets), o.resource]);
  }
}

export async function outcomeWebgpu(p: OutcomeProblem, context?: GpuContext): Promise<OutcomeRaw> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  const { layout } = p;
  checkRowBinding(ctx, layout.rows, 'scores');
  const U = GPUBufferUsage;
  try {
    const code = builtinCodes[p.estimator as BuiltinEstimator];
    const offsets = plan.upload(layout.offsets);
    const mask = layout.mask ? plan.upload(layout.mask) : null;
    const scoresIn = plan.upload(p.scores);
    const rowScores = p.tokenScores ? plan.scratch(layout.rows * 4, U.COPY_SRC) : scoresIn;
    const rowLen = plan.scratch(layout.rows * 4);
    const status = plan.upload(new Uint32Array([0xffffffff, 0]), U.COPY_SRC);
    const csr = groupCsr(p.groupIds, p.numGroups);
    const rowAdv = plan.scratch(layout.rows * 4, U.COPY_SRC);
    const tokenAdv = plan.scratch(Math.ceil(layout.tokens / 4) * 16, U.COPY_SRC);

    const needLengths = p.estimator === 'opo' || p.estimator === 'reinforce_plus_plus_baseline';
    if (p.tokenScores || needLengths) addRowStats(plan, layout, { scores: p.tokenScores ? scoresIn : null, mask, offsets, rowScores, rowLen, status }, p.sumMasked);
    plan.add('outcome_group_adv', 'main', Math.ceil(p.numGroups / 64),
      words([p.numGroups, code, p.normByStd ? 1 : 0, 0, { f32: p.epsilon }, { f32: p.clip }, 0, 0]),
      [whole(rowScores), whole(rowLen), whole(plan.upload(csr.start)), whole(plan.upload(csr.members)), whole(rowAdv)]);
    if (p.estimator === 'gpg' || p.estimator === 'reinforce_plus_plus_baseline') {
      plan.add('outcome_batch', 'main', 1, words([layout.rows, p.estimator === 'gpg' ? 0 : 1, 0, 0, { f32: p.fNorm }, 0, 0, 0]),
        [whole(rowScores), whole(rowLen), whole(rowAdv), whole(status)]);
    }
    addBroadcast(plan, layout, rowAdv, mask, offsets, tokenAdv);
    await plan.run();
    const st = new Uint32Array(2);
    await plan.read([[rowAdv, p.outRows], [tokenAdv, p.outTokens], [status, st]]);
    if (st[0] !== 0xffffffff) {
      const sums = new Float32Array(layout.rows);
      await plan.read([[rowScores, sums]]);
      return { badRow: st[0]!, badValue: sums[st[0]!]!, trained: 0 };
    }
    // ΣL is counted only where it is needed (reinforce++-baseline, the one estimator that checks it).
    return { badRow: -1, badValue: 0, trained: p.estimator === 'reinforce_plus_plus_baseline' ? st[1]! : NaN };
  } finally {
    plan.release();
  }
}
