/**
 * The diffusion step on WebGPU (shaders/diffusion_step.wgsl): one pass writes prev, mean (and x̂0)
 * and one Σ(prev − mean)² partial per workgroup block (≤ 1024 elements of one row); the host sums a
 * row's partials in f64 (rows·⌈n/1024⌉ values, the "tiny reduction"). Latent arrays are split into
 * dispatches of whole rows that fit ctx.maxBinding, or, for rows larger than a binding, row segments
 * of a multiple of 1024 elements.
 *
 * `encodeStep` adds the passes over buffers already on the device (the trajectory stepper keeps its
 * latents there between steps); `stepWebgpu` uploads host arrays, encodes, runs and reads back.
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { StepProblem } from './step.js';
import { noiseKeys } from './rng.js';

const BLOCK = 1024;

/** Device buffers of one step: inputs x, v (latent dtype), the optional prev/noise, outputs (f32). */
export interface StepBuffers {
  x: GPUBuffer;
  v: GPUBuffer;
  /** prevSample (latent dtype) or noise (f32) when the problem has one; else unused. */
  third?: GPUBuffer;
  outPrev: GPUBuffer;
  outMean: GPUBuffer;
  /** Needed when p.outX0 is set (never a read-only buffer: one buffer may not be bound both ways). */
  outX0?: GPUBuffer;
  /** stepPartials(p) f32 values. */
  partials: GPUBuffer;
}

/** Partial sums the step writes: rows·⌈inner/1024⌉ (throws E_RANGE when the rows do not fit one binding). */
export function stepPartials(p: { rows: number; inner: number }, ctx: GpuContext): number {
  const rowBlocks = Math.ceil(p.inner / BLOCK);
  const nParts = p.rows * rowBlocks;
  if (Math.max(p.rows * 32, nParts * 4) > ctx.maxBinding) {
    throw new RewardkitError('E_RANGE', `Expected at most ${Math.floor(ctx.maxBinding / 32)} rows and ${Math.floor(ctx.maxBinding / 4)} blocks of ${BLOCK} elements on this GPU (one binding) but received ${p.rows} rows of ${p.inner}`, 'shape');
  }
  return nParts;
}

/** Add the step's passes to `plan` (coefficients uploaded into it); run the plan to execute them. */
export function encodeStep(plan: GpuPlan, p: StepProblem, b: StepBuffers): void {
  const ctx = plan.ctx;
  const { rows, inner } = p;
  const rowBlocks = Math.ceil(inner / BLOCK);
  stepPartials(p, ctx);
  const half = p.dtype !== 'f32';
  const third = (p.prevSample || p.noise) && b.third ? b.third : plan.dummy;
  if ((p.prevSample || p.noise) && !b.third) throw new RewardkitError('E_VALUE', 'internal: the step needs its prevSample/noise buffer');
  const outX0 = p.outX0 ? b.outX0 : plan.scratch(4);
  if (!outX0) throw new RewardkitError('E_VALUE', 'internal: the step needs its x̂0 buffer');
  const rc = new Float32Array(rows * 8);
  for (let r = 0; r < rows; r++) { rc.set(p.coef.subarray(r * 4, r * 4 + 4), r * 8); rc[r * 8 + 4] = p.scale[r]!; }
  const coefs = plan.upload(rc);
  const [k0, k1] = noiseKeys(p.seed);
  const flags = { f32: 0, f16: 1, bf16: 2 }[p.dtype] | (p.prevSample ? 4 : 0) | (p.noise ? 8 : 0) | (p.outX0 ? 16 : 0);
  // Elements one dispatch may bind (4-byte arrays; the alignment slack kept free).
  const cap = Math.floor((ctx.maxBinding - ctx.offsetAlignment) / 4);
  const segLen = inner <= cap ? inner : Math.floor(cap / BLOCK) * BLOCK;
  const perDispatch = inner <= cap ? Math.max(1, Math.floor(cap / inner)) : 1;
  for (let r0 = 0; r0 < rows; r0 += perDispatch) {
    const rowCount = Math.min(perDispatch, rows - r0);
    for (let first = 0; first < inner; first += segLen) {
      const len = Math.min(segLen, inner - first);
      const blocks = Math.ceil(len / BLOCK);
      const c0 = r0 * inner + first, count = (rowCount - 1) * inner + len;
      const b32 = (buf: GPUBuffer) => ctx.range(buf, c0, count, 4);
      const lat = (buf: GPUBuffer) => ctx.range(buf, c0, count, half ? 2 : 4);
      const rx = lat(b.x), rv = lat(b.v), ro = b32(b.outPrev), rm = b32(b.outMean);
      const r3 = p.prevSample ? lat(third) : p.noise ? b32(third) : { resource: whole(third), base: 0 };
      const rx0 = p.outX0 ? b32(outX0) : { resource: whole(outX0), base: 0 };
      const part0 = r0 * rowBlocks + first / BLOCK;
      const rp = ctx.range(b.partials, part0, rowCount * blocks, 4);
      plan.add('diffusion_step', 'main', rowCount * blocks,
        words([r0, rowCount, inner, first, len, blocks, ro.base, rx.base, rp.base, flags, k0, k1]),
        [rx.resource, rv.resource, r3.resource, whole(coefs), ro.resource, rm.resource, rx0.resource, rp.resource]);
    }
  }
}

/** Per-row Σ(prev − mean)² (f64) from the step's partials. */
export function rowSums(p: { rows: number; inner: number }, parts: Float32Array): Float64Array {
  const rowBlocks = Math.ceil(p.inner / BLOCK);
  const sums = new Float64Array(p.rows);
  for (let r = 0; r < p.rows; r++) {
    let s = 0;
    for (let k = 0; k < rowBlocks; k++) s += parts[r * rowBlocks + k]!;
    sums[r] = s;
  }
  return sums;
}

export async function stepWebgpu(p: StepProblem, context?: GpuContext): Promise<Float64Array> {
  const ctx = context ?? (await getContext());
  const nParts = stepPartials(p, ctx);
  const plan = new GpuPlan(ctx);
  try {
    const U = GPUBufferUsage;
    const total = p.total;
    const third = p.prevSample ? plan.upload(p.prevSample) : p.noise ? plan.upload(p.noise) : undefined;
    const b: StepBuffers = {
      x: plan.upload(p.sample), v: plan.upload(p.modelOutput), ...(third && { third }),
      outPrev: plan.scratch(total * 4, U.COPY_SRC), outMean: plan.scratch(total * 4, U.COPY_SRC),
      ...(p.outX0 && { outX0: plan.scratch(total * 4, U.COPY_SRC) }),
      partials: plan.scratch(nParts * 4, U.COPY_SRC),
    };
    encodeStep(plan, p, b);
    await plan.run();
    const parts = new Float32Array(nParts);
    const reads: Array<[GPUBuffer, ArrayBufferView]> = [[b.outPrev, p.outPrev], [b.outMean, p.outMean], [b.partials, parts]];
    if (p.outX0) reads.push([b.outX0!, p.outX0]);
    await plan.read(reads);
    return rowSums(p, parts);
  } finally {
    plan.release();
  }
}
