/** The diffusion step on the native addon (native/diffusion.cc): one multi-threaded pass, per-row f64 sums. */
import { RewardkitError } from '../errors.js';
import { callNative, loadNative } from '../backends/native.js';
import type { StepProblem } from './step.js';
import { noiseKeys } from './rng.js';

const dtypeCode = { f32: 0, f16: 1, bf16: 2 } as const;

export async function stepNative(p: StepProblem): Promise<Float64Array> {
  const addon = loadNative() as unknown as Record<string, (args: object) => Promise<unknown>>;
  const sums = new Float64Array(p.rows);
  const [k0, k1] = noiseKeys(p.seed);
  try {
    await addon['diffusionStep']!({
      rows: p.rows, inner: p.inner, dtype: dtypeCode[p.dtype],
      modelOutput: p.modelOutput, sample: p.sample, prevSample: p.prevSample, noise: p.noise,
      key0: k0, key1: k1, coef: p.coef, scale: p.scale,
      outPrev: p.outPrev, outMean: p.outMean, outX0: p.outX0, sums,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new RewardkitError('E_NATIVE', `The native diffusionStep failed: ${message}`, undefined, { cause: err });
  }
  return sums;
}

/** rng.ts gaussianNoise on the native addon (the same bits): `count` draws of elements [first, first + count). */
export async function gaussianNoiseNative(seed: number, count: number, first = 0): Promise<Float32Array> {
  const out = new Float32Array(count);
  const [k0, k1] = noiseKeys(seed);
  await callNative('diffusionNoise', { key0: k0, key1: k1, first, count, out });
  return out;
}
