/**
 * Losses on WebGPU (shaders/loss_rows.wgsl, loss_reduce.wgsl): per-row counts (and GSPO/GMPO row
 * ratios) → batch counts → per-token loss and gradient with per-row sums → batch totals, encoded
 * into one GpuPlan submission; token arrays are bound a chunk of whole rows at a time so inputs
 * larger than one storage binding split instead of failing.
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { lossKinds, type LossProblem, type LossRaw } from './problem.js';

const LONG_ROW = 128; // from this mean row length a workgroup handles a row

/** Device buffers a loss reads (chained ops pass their own, e.g. grpoStep's advantages). */
export interface LossInputs {
  x: GPUBuffer;
  old: GPUBuffer | null;
  adv: GPUBuffer | null;
  weights: GPUBuffer | null;
  /** The u8 mask (uploaded as bytes), or null when every token is trained. */
  mask: GPUBuffer | null;
}

export interface LossOutputs {
  /** totals [8] | offsets | n | value | row loss | row sums (u32 words, COPY_SRC): loss at word 2. */
  rowbuf: GPUBuffer;
  outLoss: GPUBuffer | null;
  outGrad: GPUBuffer;
}

/** Words 2..5 of rowbuf after the plan ran: loss, clipfrac, ppoKl, clipfracLower. */
export const TOTALS_WORDS = 8;

/** Upload the problem's host arrays. */
export function uploadLossInputs(plan: GpuPlan, p: LossProblem): LossInputs {
  return {
    x: plan.upload(p.x), old: p.old ? plan.upload(p.old) : null, adv: p.adv ? plan.upload(p.adv) : null,
    weights: p.weights ? plan.upload(p.weights) : null, mask: p.layout.mask ? plan.upload(p.layout.mask) : null,
  };
}

/** Encode the loss passes into `plan` (no submission). `writeLoss` false skips the per-token loss. */
export function encodeLoss(plan: GpuPlan, p: LossProblem, inp: LossInputs, writeLoss: boolean): LossOutputs {
  const ctx = plan.ctx, U = GPUBufferUsage;
  const { rows: B, offsets: off, tokens } = p.layout;
  const rowWords = TOTALS_WORDS + (B + 1) + 7 * B;
  if (rowWords * 4 > ctx.maxBinding) throw new RewardkitError('E_RANGE', `Expected at most ${Math.floor((ctx.maxBinding / 4 - 9) / 8)} rows on this GPU (per-row data must fit one ${ctx.maxBinding}-byte binding) but received ${B}`, 'shape');
  const init = new Uint32Array(TOTALS_WORDS + B + 1);
  init.set(off, TOTALS_WORDS);
  const rowbuf = plan.scratch(rowWords * 4, U.COPY_SRC | U.COPY_DST);
  ctx.device.queue.writeBuffer(rowbuf, 0, init);
  writeLoss &&= p.kind !== 'identity';
  const outLoss = writeLoss ? plan.scratch(Math.max(tokens, 1) * 4, U.COPY_SRC) : null;
  const outGrad = plan.scratch(Math.max(tokens, 1) * 4, U.COPY_SRC);
  const sink = plan.scratch(4); // the writable slot of a loss that is not written
  const a = p.agg;
  const flags = (inp.mask ? 1 : 0) | (inp.weights ? 2 : 0) | (outLoss ? 4 : 0);
  const tail = [
    { f32: p.lo }, { f32: p.hi }, { f32: p.clipC }, { f32: p.delta },
    { f32: p.tauPos }, { f32: p.tauNeg }, { f32: p.cliprange }, { f32: p.scale },
    { f32: a.dpSize }, { f32: a.batchNumTokens }, { f32: a.globalBatchSize }, { f32: a.lossScaleFactor },
    { f32: a.maxCompletionLength }, { f32: a.numProcesses }, { f32: a.globalActiveTokens }, { f32: 0 },
  ];

  // Chunks of whole rows whose tokens fit one binding of f32s.
  const cap = Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4);
  const chunks: Array<[number, number]> = [];
  for (let r0 = 0; r0 < B;) {
    if (off[r0 + 1]! - off[r0]! > cap) throw new RewardkitError('E_RANGE', `Expected rows of at most ${cap} tokens on this GPU (one binding) but row ${r0} has ${off[r0 + 1]! - off[r0]!}`, 'shape');
    let r1 = r0 + 1;
    while (r1 < B && off[r1 + 1]! - off[r0]! <= cap) r1++;
    chunks.push([r0, r1]);
    r0 = r1;
  }
  const bind = (buffer: GPUBuffer | null, t0: number, count: number, bytes: number) =>
    buffer ? ctx.range(buffer, t0, count, bytes) : { resource: whole(plan.dummy), base: 0 };
  const rowPass = (stage: 'prep' | 'token') => {
    for (const [r0, r1] of chunks) {
      const t0 = off[r0]!, count = off[r1]! - t0;
      const x = bind(inp.x, t0, count, 4), m = bind(inp.mask, t0, count, 1);
      const long = count / (r1 - r0) >= LONG_ROW;
      const bindings = [x.resource, bind(inp.old, t0, count, 4).resource, bind(inp.adv, t0, count, 4).resource,
        bind(inp.weights, t0, count, 4).resource, m.resource, whole(rowbuf)];
      if (stage === 'token') bindings.push(outLoss ? ctx.range(outLoss, t0, count, 4).resource : whole(sink), ctx.range(outGrad, t0, count, 4).resource);
      plan.add('loss_rows', `${stage}_${long ? 'group' : 'thread'}`, long ? r1 - r0 : Math.ceil((r1 - r0) / 64),
        words([lossKinds[p.kind], a.code, B, flags, r0, r1 - r0, t0, x.base, m.base, p.estimator ?? 3, 0, 0, ...tail]), bindings);
    }
  };
  rowPass('prep');
  const gmpo = p.kind === 'gmpo' ? 1 : 0;
  // verl's 0/0: token-mean and dapo without a given count need N > 0, the seq-mean modes E > 0.
  const emptyNan = gmpo ? 0
    : (a.mode === 'token-mean' && !a.batchNumTokens) || (a.mode === 'dapo' && !a.globalActiveTokens) ? 1
      : (a.mode === 'seq-mean-token-sum' || a.mode === 'seq-mean-token-mean') && !a.globalBatchSize ? 2 : 0;
  const reduceUniforms = words([B, gmpo, emptyNan, 0x7fc00000, { f32: p.scale }]);
  plan.add('loss_reduce', 'counts', 1, reduceUniforms, [whole(rowbuf)]);
  rowPass('token');
  plan.add('loss_reduce', 'finish', 1, reduceUniforms, [whole(rowbuf)]);
  return { rowbuf, outLoss, outGrad };
}

/** Read the scalars (words 2..5 of rowbuf) into a LossRaw. */
export function lossRaw(totals: Uint32Array): LossRaw {
  const v = new Float32Array(totals.buffer, totals.byteOffset, totals.length);
  return { loss: v[2]!, clipfrac: v[3]!, ppoKl: v[4]!, clipfracLower: v[5]! };
}

export async function lossWebgpu(p: LossProblem, context?: GpuContext): Promise<LossRaw> {
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const out = encodeLoss(plan, p, uploadLossInputs(plan, p), p.outLoss.length > 0);
    await plan.run();
    const totals = new Uint32Array(TOTALS_WORDS);
    const parts: Array<[GPUBuffer, ArrayBufferView]> = [[out.rowbuf, totals], [out.outGrad, p.outGrad]];
    if (out.outLoss) parts.push([out.outLoss, p.outLoss]);
    await plan.read(parts);
    return lossRaw(totals);
  } finally {
    plan.release();
  }
}
