/**
 * GRPO advantages on WebGPU: row sums (token-level scores) → group statistics → row advantages →
 * token broadcast, all encoded in one submission with no readback in between; one mapped read at
 * the end. Token arrays are processed in chunks that fit maxStorageBufferBindingSize; dispatches
 * wider than 65,535 workgroups go 2-D.
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import type { GrpoProblem, GrpoRaw } from './grpo.js';
import { groupCsr } from '../layout.js';
import { GpuPlan, words } from '../backends/webgpu/plan.js';

const STAT_BYTES = 32; // struct Stat in grpo_group_stats.wgsl
const SMALL_GROUP = 64; // up to this size one thread handles a group; larger, a workgroup
const LONG_ROW = 128; // from this mean row length one workgroup sums a row

/** The device buffers encodeGrpo leaves: row scores, advantages per row and per token, the bad-row status word. */
export interface GrpoBuffers { rowScores: GPUBuffer; rowAdv: GPUBuffer; tokenAdv: GPUBuffer; status: GPUBuffer }

/** Encode the GRPO passes into `plan` (no submission), so chained ops (grpoStep) keep the results on the device; `scores` replaces the upload of p.scores. */
export function encodeGrpo(plan: GpuPlan, p: GrpoProblem, scores?: GPUBuffer): GrpoBuffers {
  const ctx = plan.ctx;
  // Per-row arrays are bound whole; only token arrays are split.
  if (Math.max((p.rows + 1) * 4, p.numGroups * STAT_BYTES) > ctx.maxBinding) {
    throw new RewardkitError('E_RANGE', `Expected at most ${Math.floor(ctx.maxBinding / STAT_BYTES)} groups and ${Math.floor(ctx.maxBinding / 4) - 1} rows on this GPU (per-row arrays must fit one ${ctx.maxBinding}-byte binding) but received ${p.numGroups} groups of ${p.rows} rows`, 'scores');
  }
  const U = GPUBufferUsage;
  const upload = (data: ArrayBufferView, usage = 0) => plan.upload(data, usage);
  const scratch = (bytes: number, usage = 0) => plan.scratch(bytes, usage);
  const add = (shader: string, entry: string, groups: number, params: Uint32Array, bindings: GPUBufferBinding[]) => plan.add(shader, entry, groups, params, bindings);
  const whole = (buffer: GPUBuffer) => ({ buffer });
  {
    const dummy = plan.dummy;
    const offsets = p.offsets ? upload(p.offsets) : dummy;
    const mask = p.mask ? upload(p.mask) : dummy;
    const maskBytes = p.mask instanceof Float32Array ? 4 : 1;
    const maskFlag = p.mask instanceof Float32Array ? 2 : 0;
    const trl = p.convention === 'trl' ? 1 : 0;
    const groupIds = upload(p.groupIds);
    const csr = groupCsr(p.groupIds, p.numGroups);
    const groupStart = upload(csr.start);
    const members = upload(csr.members);
    const status = upload(new Uint32Array([0xffffffff]), U.COPY_SRC);
    const scoresIn = scores ?? upload(p.scores); // a device buffer of row scores from a chained op (scorePipeline)
    const rowScores = p.tokenScores ? scratch(p.rows * 4, U.COPY_SRC) : scoresIn;
    const stats = scratch(p.numGroups * STAT_BYTES);
    const batch = scratch(STAT_BYTES);
    const rowAdv = scratch(p.rows * 4, U.COPY_SRC);
    const tokenAdv = scratch(Math.ceil(p.tokens / 4) * 16, U.COPY_SRC);

    // 1. Row sums of token-level scores, a chunk of whole rows per dispatch.
    if (p.tokenScores) {
      const cap = Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4);
      const rowStart = (r: number) => (p.offsets ? p.offsets[r]! : r * p.cols);
      for (let r0 = 0; r0 < p.rows;) {
        let r1 = r0 + 1;
        if (rowStart(r1) - rowStart(r0) > cap) {
          throw new RewardkitError('E_RANGE', `Expected rows of at most ${cap} tokens on this GPU (one binding) but row ${r0} has ${rowStart(r1) - rowStart(r0)}`, 'scores');
        }
        if (p.offsets) { while (r1 < p.rows && p.offsets[r1 + 1]! - p.offsets[r0]! <= cap) r1++; }
        else r1 = Math.min(p.rows, r0 + Math.max(1, Math.floor(cap / p.cols)));
        const t0 = rowStart(r0), count = rowStart(r1) - t0;
        const sc = ctx.range(scoresIn, t0, count, 4);
        const mk = p.mask ? ctx.range(mask, t0, count, maskBytes) : { resource: whole(dummy), base: 0 };
        const long = count / (r1 - r0) >= LONG_ROW;
        add('grpo_row_scores', long ? 'per_workgroup' : 'per_thread', long ? r1 - r0 : Math.ceil((r1 - r0) / 64),
          words([r0, r1 - r0, p.cols, sc.base, mk.base, t0, (p.sumMasked ? 1 : 0) | maskFlag | (trl << 2), 0]),
          [sc.resource, mk.resource, whole(offsets), whole(rowScores), whole(status)]);
        r0 = r1;
      }
    }
    // 2. Group statistics (and the whole batch's, for scale 'batch').
    const wide = csr.largest > SMALL_GROUP;
    add('grpo_group_stats', wide ? 'per_workgroup' : 'per_thread', wide ? p.numGroups : Math.ceil(p.numGroups / 64),
      words([p.numGroups, trl, 0, p.rows]), [whole(rowScores), whole(groupStart), whole(members), whole(stats)]);
    if (p.scale === 'batch') {
      add('grpo_group_stats', 'per_workgroup', 1, words([1, trl, 1, p.rows]), [whole(rowScores), whole(groupStart), whole(members), whole(batch)]);
    }
    // 3. Row advantages.
    add('grpo_row_adv', 'main', Math.ceil(p.rows / 256),
      words([p.rows, { group: 0, batch: 1, none: 2 }[p.scale], trl, 0, { f32: p.epsilon }]),
      [whole(rowScores), whole(groupIds), whole(stats), whole(batch), whole(rowAdv)]);
    // 4. Token broadcast, chunks of whole 1024-token blocks (aligned binding offsets).
    const chunk = Math.floor(ctx.maxBinding / 4096) * 1024;
    for (let t0 = 0; t0 < p.tokens; t0 += chunk) {
      const count = Math.min(chunk, p.tokens - t0);
      const out = ctx.range(tokenAdv, t0, Math.ceil(count / 4) * 4, 4);
      const mk = p.mask ? ctx.range(mask, t0, count, maskBytes) : { resource: whole(dummy), base: 0 };
      add('grpo_broadcast', 'main', Math.ceil(count / 1024),
        words([count, t0, p.cols, maskFlag, p.rows, mk.base, 0, 0]),
        [whole(rowAdv), mk.resource, whole(offsets), out.resource]);
    }

    return { rowScores, rowAdv, tokenAdv, status };
  }
}

export async function grpoWebgpu(p: GrpoProblem, context?: GpuContext): Promise<GrpoRaw> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const { rowScores, rowAdv, tokenAdv, status } = encodeGrpo(plan, p);
    await plan.run();
    const statusWord = new Uint32Array(1);
    await plan.read([[rowAdv, p.outRows], [tokenAdv, p.outTokens], [status, statusWord]]);
    const badRow = statusWord[0]!;
    if (badRow === 0xffffffff) return { badRow: -1, badValue: 0 };
    const sums = new Float32Array(p.rows);
    await plan.read([[rowScores, sums]]);
    return { badRow, badValue: sums[badRow]! };
  } finally {
    plan.release();
  }
}
