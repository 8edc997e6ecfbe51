/**
 * The masked ops on WebGPU, and the whitening passes the token estimators share: whole-batch sums
 * as tree-reduced partials per 4096-token block then one finishing workgroup (twice for the
 * variance: Σ v, then Σ (v − mean)²), an elementwise in-place whitening pass, and per-row
 * statistics with one workgroup per row. Everything is encoded in one submission (GpuPlan) and
 * read back once. Token arrays larger than ctx.maxBinding are bound in chunks (whole blocks for
 * the elementwise passes, whole rows for the per-row ones).
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { TokenLayout } from '../layout.js';
import type { MaskedProblem, MaskedRaw } from './masked.js';

const BLOCK = 4096; // tokens per partial (masked_partials.wgsl: 256 threads × 16)
const STAT = 32; // bytes of struct Stat

/** Chunks of whole rows [r0, r1) holding at most `cap` tokens each (a longer row is refused). */
export function* rowChunks(layout: TokenLayout, cap: number, argument: string): Generator<[number, number]> {
  const off = layout.offsets;
  for (let r0 = 0; r0 < layout.rows;) {
    let r1 = r0 + 1;
    if (off[r1]! - off[r0]! > cap) {
      throw new RewardkitError('E_RANGE', `Expected rows of at most ${cap} tokens on this GPU (one binding) but row ${r0} has ${off[r1]! - off[r0]!}`, argument);
    }
    while (r1 < layout.rows && off[r1 + 1]! - off[r0]! <= cap) r1++;
    yield [r0, r1];
    r0 = r1;
  }
}

/** Tokens per elementwise chunk: whole blocks within one binding. */
const tokenChunk = (ctx: GpuContext) => Math.max(BLOCK, Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4 / BLOCK) * BLOCK);

/** Per-row arrays must fit one binding. */
export function checkRows(ctx: GpuContext, rows: number, bytesPerRow: number, argument: string): void {
  if ((rows + 1) * Math.max(4, bytesPerRow) > ctx.maxBinding) {
    throw new RewardkitError('E_RANGE', `Expected at most ${Math.floor(ctx.maxBinding / Math.max(4, bytesPerRow)) - 1} rows on this GPU (per-row arrays must fit one ${ctx.maxBinding}-byte binding) but received ${rows}`, argument);
  }
}

/** A mask binding for tokens [t0, t0+count), or the dummy when every token is trained. */
export function maskRange(plan: GpuPlan, mask: GPUBuffer | null, t0: number, count: number): { resource: GPUBufferBinding; base: number } {
  return mask ? plan.ctx.range(mask, t0, count, 1) : { resource: whole(plan.dummy), base: 0 };
}

export interface WhitenMode {
  /** OpenRLHF: mean Σ/n, biased variance, rsqrt(max(var, 1e-8)). Else verl. */
  openrlhf?: boolean;
  unbiased: boolean;
  /** Add the mean back (verl shift_mean=False). */
  addMean?: boolean;
  /** Stop after the mean (sum/mean only). */
  meanOnly?: boolean;
}

/** Encode the whole-batch statistics of `data` [tokens]; returns the Stat buffer (COPY_SRC). */
export function encodeBatchStats(plan: GpuPlan, data: GPUBuffer, mask: GPUBuffer | null, tokens: number, mode: WhitenMode): GPUBuffer {
  const ctx = plan.ctx;
  const blocks = Math.max(1, Math.ceil(tokens / BLOCK));
  const parts = plan.scratch(blocks * 16); // struct Part: sum, count, max |v|, pad
  const stat = plan.scratch(STAT, GPUBufferUsage.COPY_SRC);
  const chunk = tokenChunk(ctx);
  const flags = (mode.unbiased ? 1 : 0) | (mode.openrlhf ? 2 : 0) | (mode.addMean ? 4 : 0);
  for (const square of mode.meanOnly ? [0] : [0, 1]) {
    for (let t0 = 0; t0 < tokens; t0 += chunk) {
      const count = Math.min(chunk, tokens - t0);
      const d = ctx.range(data, t0, count, 4), m = maskRange(plan, mask, t0, count);
      plan.add('masked_partials', 'main', Math.ceil(count / BLOCK),
        words([count, d.base, m.base, t0 / BLOCK, (mask ? 1 : 0) | (square << 1)]),
        [d.resource, m.resource, whole(stat), whole(parts)]);
    }
    plan.add('masked_finish', 'main', 1, words([tokens === 0 ? 0 : blocks, square, flags]), [whole(parts), whole(stat)]);
  }
  return stat;
}

/** Encode per-row statistics of `data` (one workgroup per row); returns the [rows] Stat buffer. */
export function encodeRowStats(plan: GpuPlan, data: GPUBuffer, mask: GPUBuffer | null, offsets: GPUBuffer, layout: TokenLayout, variance: boolean, unbiased: boolean, addMean: boolean): GPUBuffer {
  const ctx = plan.ctx;
  const stats = plan.scratch(layout.rows * STAT, GPUBufferUsage.COPY_SRC);
  const flags = (mask ? 1 : 0) | (variance ? 2 : 0) | (unbiased ? 4 : 0) | (addMean ? 8 : 0);
  for (const [r0, r1] of rowChunks(layout, Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4), 'values')) {
    const t0 = layout.offsets[r0]!, count = layout.offsets[r1]! - t0;
    const d = count ? ctx.range(data, t0, count, 4) : { resource: whole(plan.dummy), base: 0 };
    const m = count ? maskRange(plan, mask, t0, count) : { resource: whole(plan.dummy), base: 0 };
    plan.add('masked_rows', 'main', r1 - r0, words([r0, r1 - r0, t0, d.base, m.base, flags]), [d.resource, m.resource, whole(offsets), whole(stats)]);
  }
  return stats;
}

/** Encode the in-place whitening of `data` with whole-batch (`stats` [1]) or per-row statistics. */
export function encodeApply(plan: GpuPlan, data: GPUBuffer, mask: GPUBuffer | null, stats: GPUBuffer, offsets: GPUBuffer, layout: TokenLayout, perRow: boolean, zeroUntrained: boolean): void {
  const ctx = plan.ctx;
  const chunk = tokenChunk(ctx);
  const flags = (mask ? 1 : 0) | (zeroUntrained ? 2 : 0) | (perRow ? 4 : 0);
  for (let t0 = 0; t0 < layout.tokens; t0 += chunk) {
    const count = Math.min(chunk, layout.tokens - t0);
    const d = ctx.range(data, t0, count, 4), m = maskRange(plan, mask, t0, count);
    plan.add('masked_apply', 'main', Math.ceil(count / 256),
      words([count, d.base, m.base, t0, flags, layout.cols, layout.rows]),
      [d.resource, m.resource, whole(stats), whole(offsets)]);
  }
}

/** A Stat entry's words as f32 and u32. */
function statWords(raw: Uint32Array, entry: number): { f: Float32Array; u: Uint32Array } {
  return { f: new Float32Array(raw.buffer, entry * STAT, 8), u: new Uint32Array(raw.buffer, entry * STAT, 8) };
}

export async function maskedWebgpu(p: MaskedProblem, context?: GpuContext): Promise<MaskedRaw> {
  const ctx = context ?? (await getContext());
  const { layout } = p;
  checkRows(ctx, layout.rows, p.perRow ? STAT : 4, 'values');
  const plan = new GpuPlan(ctx);
  try {
    const whiten = p.kind === 'whiten';
    const variance = p.kind === 'var' || whiten;
    // Whitening works in place: the values are uploaded into the output buffer.
    const data = plan.upload(p.values, whiten ? GPUBufferUsage.COPY_SRC : 0);
    const mask = layout.mask ? plan.upload(layout.mask) : null;
    const offsets = plan.upload(layout.offsets);
    let stats: GPUBuffer;
    if (p.perRow) stats = encodeRowStats(plan, data, mask, offsets, layout, variance, p.unbiased, !p.shiftMean);
    else stats = encodeBatchStats(plan, data, mask, layout.tokens, { unbiased: p.unbiased, addMean: !p.shiftMean, meanOnly: !variance });
    if (whiten) encodeApply(plan, data, mask, stats, offsets, layout, p.perRow, false);
    await plan.run();
    const entries = p.perRow ? layout.rows : 1;
    const raw = new Uint32Array(entries * (STAT / 4));
    await plan.read(whiten ? [[stats, raw], [data, p.out]] : [[stats, raw]]);
    const result: MaskedRaw = { count: 0, badRow: -1, badCount: 0 };
    const field = { sum: 0, mean: 2, var: 3, whiten: 3 }[p.kind]; // Stat.sum, .mean, .var_
    for (let e = 0; e < entries; e++) {
      const { f, u } = statWords(raw, e);
      if (!p.perRow) result.count = u[1]!;
      else if (variance && p.unbiased && u[1]! <= 1 && result.badRow < 0) { result.badRow = e; result.badCount = u[1]!; }
      if (!whiten) p.out[e] = f[field]!;
    }
    return result; // finishMasked raises for too few tokens
  } finally {
    plan.release();
  }
}
