/**
 * Backend selection. Every op takes `backend: 'auto' | 'js' | 'native' | 'webgpu'`; `auto` picks by
 * input size and availability using the thresholds below, and falls back to `js` when nothing else runs.
 */
import { describe, fail, RewardkitError } from '../errors.js';
import { nativeStatus } from './native.js';
import { gpuStatus, gpuStatusSync } from './webgpu/context.js';
import { thresholds } from './thresholds.js';

export type Backend = 'auto' | 'js' | 'native' | 'webgpu';
export type Concrete = Exclude<Backend, 'auto'>;
export const backends: readonly Backend[] = ['auto', 'js', 'native', 'webgpu'];

let probed = false;

export type Impls<R> = Record<Concrete, () => Promise<R>>;

const thresholdOf = (op: string) => thresholds[op] ?? thresholds['default']!;

/** Which backend `auto` picks for an op over `elements` values (tokens + rows). */
export function chooseBackend(op: string, elements: number): Concrete {
  const t = thresholdOf(op);
  const gpu = gpuStatusSync();
  // A software adapter (lavapipe) is never faster than the addon: only a real GPU is picked.
  if (gpu.ready && !gpu.software && elements >= t.webgpu) return 'webgpu';
  if (elements >= t.native && nativeStatus().available) return 'native';
  return 'js';
}

export async function runOp<R>(op: string, backend: unknown, elements: number, impls: Impls<R>): Promise<R> {
  const b = backend ?? 'auto';
  if (typeof b !== 'string' || !(backends as readonly string[]).includes(b)) {
    fail('E_VALUE', 'backend', `one of ${backends.map((x) => `'${x}'`).join(', ')}`, describe(b));
  }
  if (b === 'native') {
    const st = nativeStatus();
    if (!st.available) throw new RewardkitError('E_BACKEND_UNAVAILABLE', `The native backend is unavailable: ${st.reason}`, 'backend');
  }
  if (b === 'auto' && !probed && elements >= thresholdOf(op).webgpu) {
    probed = true; // large work: find out once whether a hardware adapter exists
    await gpuStatus();
  }
  return impls[b === 'auto' ? chooseBackend(op, elements) : (b as Concrete)]();
}
