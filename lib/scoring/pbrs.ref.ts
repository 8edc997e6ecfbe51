/** The JS reference for potential-based shaping and Robo-Dopamine progress, in f64, results rounded to f32. */
import type { DopamineProblem, PbrsProblem } from './pbrs.js';

export function pbrsJs(p: PbrsProblem): void {
  for (let i = 0; i < p.rows; i++) {
    const start = p.offsets[i]!, end = p.offsets[i + 1]!;
    const base = p.withFinal ? start + i : start; // index of Φ(s_0) in potentials
    for (let t = start; t < end; t++) {
      const k = base + (t - start);
      const next = p.withFinal || t + 1 < end ? p.potentials[k + 1]! : 0;
      p.out[t] = p.rewards[t]! + p.gamma * next - p.potentials[k]!;
    }
  }
}

/** The incremental update from progress p with hop h. */
export const hopStep = (p: number, h: number): number => (h >= 0 ? p + (1 - p) * h : p + p * h);

export function dopamineJs(p: DopamineProblem): void {
  for (let i = 0; i < p.rows; i++) {
    const start = p.offsets[i]!, end = p.offsets[i + 1]!;
    if (p.mode === 'forward') { for (let t = start; t < end; t++) p.out[t] = p.hops[t]!; continue; }
    if (p.mode === 'backward') { for (let t = start; t < end; t++) p.out[t] = 1 + p.hops[t]!; continue; }
    if (p.inverse) {
      let prog = 1;
      for (let t = end - 1; t >= start; t--) { prog = hopStep(prog, p.hops[t]!); p.out[t] = prog; }
    } else {
      let prog = 0;
      for (let t = start; t < end; t++) { prog = p.rawFirst && t === start ? p.hops[t]! : hopStep(prog, p.hops[t]!); p.out[t] = prog; }
    }
  }
}
