/** The JS reference for DAPO's dynamic-sampling filter (see dynamic.ts). */
import type { DynamicProblem, DynamicRaw } from './dynamic.js';
import { rowScoresOf } from './outcome.ref.js';

/** Kept rows (and group flags) from the per-group "all equal" test on row scores. */
export function keepRows(p: DynamicProblem, s: ArrayLike<number>): DynamicRaw {
  const G = p.numGroups;
  const first = new Float64Array(G), count = new Uint32Array(G), varied = new Uint8Array(G);
  for (let i = 0; i < p.layout.rows; i++) {
    const g = p.groupIds[i]!;
    if (count[g]++ === 0) first[g] = s[i]!;
    else if (s[i] !== first[g]) varied[g] = 1;
  }
  let keptGroups = 0, kept = 0;
  for (let g = 0; g < G; g++) {
    p.groupKept[g] = varied[g] || (p.keepSingletons && count[g] === 1) ? 1 : 0;
    keptGroups += p.groupKept[g]!;
  }
  for (let i = 0; i < p.layout.rows; i++) if (p.groupKept[p.groupIds[i]!]) p.rowsOut[kept++] = i;
  return { badRow: -1, badValue: 0, kept, keptGroups };
}

export function dynamicJs(p: DynamicProblem): DynamicRaw {
  const s = rowScoresOf(p.scores, p.layout, p.tokenScores, p.sumMasked);
  for (let i = 0; i < p.layout.rows; i++) if (!Number.isFinite(s[i]!)) return { badRow: i, badValue: s[i]!, kept: 0, keptGroups: 0 };
  return keepRows(p, s);
}
