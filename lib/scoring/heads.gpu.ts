import type { GpuContext } from '../backends/webgpu/context.js';
import type { HeadsProblem } from './heads.js';
export async function headsWebgpu(p: HeadsProblem, context?: GpuContext): Promise<void> { void p; void context; throw new Error('todo'); }
