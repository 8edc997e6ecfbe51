/**
 * The diffusion step on WebGPU (shaders/diffusion_step.wgsl): one pass writes prev, mean (and x̂0)
 * and one Σ(prev − mean)² partial per workgroup block (≤ 1024 elements of one row); the host sums a
 * row's partials in f64 (rows·⌈n/1024⌉ values, the "tiny reduction"). Latent arrays are split into
 * dispatches of whole rows that fit ctx.maxBinding, or, for rows larger than a binding, row segments
 * of a multiple of 1024 elements.
 */
import { RewardkitError } from '../errors.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import type { StepProblem } from './step.js';
import { noiseKeys } from './rng.js';

const BLOCK = 1024;

export async function stepWebgpu(p: StepProblem, context?: GpuContext): Promise<Float64Array> {
  const ctx = context ?? (await getContext());
  const { rows, inner, total } = p;
  const rowBlocks = Math.ceil(inner / BLOCK);
  const nParts = rows * rowBlocks;
  if (Math.max(rows * 32, nParts * 4) > ctx.maxBinding) {
    throw new RewardkitError('E_RANGE', `Expected at most ${Math.floor(ctx.maxBinding / 32)} rows and ${Math.floor(ctx.maxBinding / 4)} blocks of ${BLOCK} elements on this GPU (one binding) but received ${rows} rows of ${inner}`, 'shape');
  }
  const plan = new GpuPlan(ctx);
  try {
    const U = GPUBufferUsage;
    const half = p.dtype !== 'f32';
    const x = plan.upload(p.sample), v = plan.upload(p.modelOutput);
    const third = p.prevSample ? plan.upload(p.prevSample) : p.noise ? plan.upload(p.noise) : plan.dummy;
    const rc = new Float32Array(rows * 8);
    for (let r = 0; r < rows; r++) { rc.set(p.coef.subarray(r * 4, r * 4 + 4), r * 8); rc[r * 8 + 4] = p.scale[r]!; }
    const coefs = plan.upload(rc);
    const outPrev = plan.scratch(total * 4, U.COPY_SRC), outMean = plan.scratch(total * 4, U.COPY_SRC);
    const outX0 = plan.scratch(p.outX0 ? total * 4 : 4, U.COPY_SRC); // never the read-only dummy: one buffer may not be bound both ways
    const partials = plan.scratch(nParts * 4, U.COPY_SRC);
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
        const rx = lat(x), rv = lat(v), ro = b32(outPrev), rm = b32(outMean);
        const r3 = p.prevSample ? lat(third) : p.noise ? b32(third) : { resource: whole(third), base: 0 };
        const rx0 = p.outX0 ? b32(outX0) : { resource: whole(outX0), base: 0 };
        const part0 = r0 * rowBlocks + first / BLOCK;
        const rp = ctx.range(partials, part0, rowCount * blocks, 4);
        plan.add('diffusion_step', 'main', rowCount * blocks,
          words([r0, rowCount, inner, first, len, blocks, ro.base, rx.base, rp.base, flags, k0, k1]),
          [rx.resource, rv.resource, r3.resource, whole(coefs), ro.resource, rm.resource, rx0.resource, rp.resource]);
      }
    }
    await plan.run();
    const parts = new Float32Array(nParts);
    const reads: Array<[GPUBuffer, ArrayBufferView]> = [[outPrev, p.outPrev], [outMean, p.outMean], [partials, parts]];
    if (p.outX0) reads.push([outX0, p.outX0]);
    await plan.read(reads);
    const sums = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let k = 0; k < rowBlocks; k++) s += parts[r * rowBlocks + k]!;
      sums[r] = s;
    }
    return sums;
  } finally {
    plan.release();
  }
}
