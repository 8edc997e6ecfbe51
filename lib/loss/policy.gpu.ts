import type { GpuContext } from '../backends/webgpu/context.js';
import type { LossProblem, LossRaw } from './problem.js';
export async function lossWebgpu(_p: LossProblem, _context?: GpuContext): Promise<LossRaw> { throw new Error('todo'); }
