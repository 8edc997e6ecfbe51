/** Shared by the eval GPU paths: f32 uploads and the partial sums the shaders leave per workgroup. */
import { GpuPlan } from '../backends/webgpu/plan.js';

export const WG = 256;
export const PART = 8; // f32 slots per workgroup partial

/** Elements one binding can hold from any start (the offset aligns down). */
export const bindingCap = (plan: GpuPlan): number => Math.floor((plan.ctx.maxBinding - plan.ctx.offsetAlignment - 16) / 4);

export const asF32 = (a: Float32Array | Float64Array): Float32Array => (a instanceof Float32Array ? a : Float32Array.from(a));

/** Sum slot k of every partial in f64, in order. */
export function sumPartials(parts: Float32Array[], slots: number): number[] {
  const s = new Array<number>(slots).fill(0);
  for (const p of parts) for (let g = 0; g < p.length / PART; g++) for (let k = 0; k < slots; k++) s[k]! += p[g * PART + k]!;
  return s;
}

/** Bind the first `count` f32 of a buffer (pooled buffers may be larger than asked for). */
export const sized = (buffer: GPUBuffer, count: number): GPUBufferBinding => ({ buffer, offset: 0, size: Math.max(1, count) * 4 });
