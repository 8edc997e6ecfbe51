/**
 * Potential shaping and Robo-Dopamine progress on WebGPU (shaders/scoring_pbrs.wgsl): one thread per
 * trajectory, trajectories in runs whose steps (and potentials) fit one binding; one submission.
 */
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, words } from '../backends/webgpu/plan.js';
import type { DopamineProblem, PbrsProblem } from './pbrs.js';
import { bindingCap, rowRuns } from './running-stats.gpu.js';

async function runTrajectories(rows: number, offsets: Uint32Array, values: Float32Array, potentials: Float32Array | null,
  withFinal: boolean, entry: 'shaping' | 'progress', flags: number, gamma: number, out: Float32Array, context?: GpuContext): Promise<void> {
  if (!out.length) return;
  const ctx = context ?? (await getContext());
  const plan = new GpuPlan(ctx);
  try {
    const offs = plan.upload(offsets);
    const vals = plan.upload(values);
    const phi = potentials ? plan.upload(potentials) : null;
    const outBuf = plan.scratch(out.length * 4, GPUBufferUsage.COPY_SRC);
    for (const run of rowRuns(rows, offsets, bindingCap(plan), withFinal ? 1 : 0)) {
      if (run.e1 === run.e0) continue; // trajectories without steps have no outputs
      const n = run.r1 - run.r0;
      const o = ctx.range(offs, run.r0, n + 1, 4);
      const v = ctx.range(vals, run.e0, run.e1 - run.e0, 4);
      const ob = ctx.range(outBuf, run.e0, run.e1 - run.e0, 4);
      const bindings = [o.resource, v.resource, ob.resource];
      let phiBase = 0;
      if (phi) {
        const ph = withFinal ? ctx.range(phi, run.e0 + run.r0, run.e1 - run.e0 + n, 4) : ctx.range(phi, run.e0, run.e1 - run.e0, 4);
        bindings.push(ph.resource);
        phiBase = ph.base;
      }
      plan.add('scoring_pbrs', entry, Math.ceil(n / 64), words([n, o.base, run.e0, v.base, phiBase, flags, 0, { f32: gamma }]), bindings);
    }
    await plan.run();
    await plan.read([[outBuf, out]]);
  } finally {
    plan.release();
  }
}

export function pbrsWebgpu(p: PbrsProblem, context?: GpuContext): Promise<void> {
  return runTrajectories(p.rows, p.offsets, p.rewards, p.potentials, p.withFinal, 'shaping', p.withFinal ? 1 : 0, p.gamma, p.out, context);
}

export function dopamineWebgpu(p: DopamineProblem, context?: GpuContext): Promise<void> {
  const flags = ['incremental', 'forward', 'backward'].indexOf(p.mode) | (p.inverse ? 4 : 0) | (p.rawFirst ? 8 : 0);
  return runTrajectories(p.rows, p.offsets, p.hops, null, false, 'progress', flags, 1, p.out, context);
}
