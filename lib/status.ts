import { nativeStatus } from './backends/native.js';
import { gpuStatus, type AdapterDescription } from './backends/webgpu/context.js';

export interface BackendStatus {
  js: { available: true };
  native: { available: boolean; reason: string; info?: unknown };
  webgpu: { available: boolean; reason: string; adapter?: AdapterDescription };
}

/** Which backends can run here, and why not (creates the shared GPU context to ask). */
export async function backendStatus(): Promise<BackendStatus> {
  const n = nativeStatus();
  return { js: { available: true }, native: { available: n.available, reason: n.reason, info: n.info }, webgpu: await gpuStatus() };
}
