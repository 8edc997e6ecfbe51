/**
 * JS reference of the diffusion step (SPEC.md §3.2) over a normalised StepProblem (see step.ts): per
 * element, in f64 from the f32 (or widened f16/bf16) inputs and the f32 per-row coefficients,
 *   mean = f32(ax·x + av·v),  prev = f32(mean + s·ε) (or the given prev),  x̂0 = f32(bx·x + bv·v),
 * and per row Σ(prev − mean)² in f64 over the f32-rounded values (the reference subtracts its f32
 * tensors). Returns those sums; finishStep turns them into the log-prob.
 */
import type { Latents, LatentDtype, StepProblem } from './step.js';
import { noiseKeys, gaussianAt } from './rng.js';

const f = Math.fround;
const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);

/** IEEE half → number (exact). */
export function halfToFloat(h: number): number {
  const e = (h >> 10) & 31, m = h & 1023, sign = h & 0x8000 ? -1 : 1;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** bf16 bits → number (exact: the top half of an f32). */
export function bf16ToFloat(h: number): number {
  bits[0] = h << 16;
  return asFloat[0]!;
}

/** Read element `i` of latents stored as `dtype`. */
export function readLatent(a: Latents, dtype: LatentDtype, i: number): number {
  return dtype === 'f32' ? a[i]! : dtype === 'bf16' ? bf16ToFloat(a[i]!) : halfToFloat(a[i]!);
}

/** The step over every element; returns Σ(prev − mean)² per row (f64). */
export function stepJs(p: StepProblem): Float64Array {
  const { rows, inner, dtype, coef } = p;
  const sums = new Float64Array(rows);
  const [k0, k1] = noiseKeys(p.seed);
  for (let r = 0; r < rows; r++) {
    const ax = coef[r * 4]!, av = coef[r * 4 + 1]!, bx = coef[r * 4 + 2]!, bv = coef[r * 4 + 3]!;
    const s = p.scale[r]!;
    let acc = 0;
    for (let j = 0, e = r * inner; j < inner; j++, e++) {
      const x = readLatent(p.sample, dtype, e), v = readLatent(p.modelOutput, dtype, e);
      const mean = f(ax * x + av * v);
      let prev: number;
      if (p.prevSample) prev = readLatent(p.prevSample, dtype, e);
      else prev = f(mean + s * (p.noise ? p.noise[e]! : gaussianAt(k0, k1, e)));
      p.outMean[e] = mean;
      p.outPrev[e] = prev;
      if (p.outX0) p.outX0[e] = bx * x + bv * v;
      const d = prev - mean;
      acc += d * d;
    }
    sums[r] = acc;
  }
  return sums;
}
