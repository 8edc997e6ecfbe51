/**
 * The step's noise generator: a counter-based hash, so every backend draws the same N(0, 1) value for
 * element e of a step from the seed alone, in any order and on any thread (torch's Philox stream
 * cannot be reproduced per element without its state; for torch's exact draws pass `noise`).
 *
 *   mix(x)  = lowbias32 (C. Wellons): x ^= x>>16; x *= 0x7feb352d; x ^= x>>15; x *= 0x846ca68b; x ^= x>>16
 *   k0 = mix(seed ^ 0x243f6a88),  k1 = mix(k0 ^ 0x85a308d3)                (u32 arithmetic, wrapping)
 *   h1 = mix(mix(e + k0) ^ k1),   h2 = mix(mix(e + k1) ^ k0)               (e = flat element index)
 *   u1 = ((h1 >> 8) + 1)·2^-24 ∈ (0, 1],   u2 = (h2 >> 8)·2^-24 ∈ [0, 1)
 *   z  = sqrt(−2 ln u1) · cos(π(2u2 − 1))                                   (Box–Muller, one of the pair)
 *
 * The uniforms are bit-identical everywhere; z is rounded to f32 after f64 math in JS and computed with
 * f32 log/cos on native and WebGPU, so z agrees to a few f32 ulps across backends (|z| ≤ 5.77).
 */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The two per-seed keys (seed: an integer in [0, 2^32)). */
export function noiseKeys(seed: number): [number, number] {
  const k0 = mix32((seed ^ 0x243f6a88) >>> 0);
  return [k0, mix32((k0 ^ 0x85a308d3) >>> 0)];
}

/** The normal draw for flat element `e` (an integer in [0, 2^32)). */
export function gaussianAt(k0: number, k1: number, e: number): number {
  const h1 = mix32((mix32((e + k0) >>> 0) ^ k1) >>> 0);
  const h2 = mix32((mix32((e + k1) >>> 0) ^ k0) >>> 0);
  const u1 = ((h1 >>> 8) + 1) * 2 ** -24;
  const u2 = (h2 >>> 8) * 2 ** -24;
  return Math.fround(Math.sqrt(-2 * Math.log(u1)) * Math.cos(Math.PI * (2 * u2 - 1)));
}

/** `count` normal draws for elements [first, first + count) of a step seeded with `seed`. */
export function gaussianNoise(seed: number, count: number, first = 0): Float32Array {
  const [k0, k1] = noiseKeys(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = gaussianAt(k0, k1, first + i);
  return out;
}
