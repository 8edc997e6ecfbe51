/**
 * `auto` crossovers, in elements (tokens + rows) per call, from `npm run bench` on the 2-core
 * development machine (see docs/benchmarks.md). Below `native` the JS reference wins (the addon's
 * call and thread start-up cost more than the work); `webgpu` applies only to a hardware adapter.
 */
export interface Threshold { native: number; webgpu: number }
export const thresholds: Record<string, Threshold> = {
  default: { native: 16_384, webgpu: 1_048_576 },
  grpoAdvantages: { native: 16_384, webgpu: 1_048_576 },
};
