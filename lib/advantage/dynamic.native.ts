/** DAPO's dynamic-sampling filter on the native addon (native/outcome.cc, mirrors dynamic.ref.ts). */
import { callNative } from '../backends/native.js';
import type { DynamicProblem, DynamicRaw } from './dynamic.js';

export async function dynamicNative(p: DynamicProblem): Promise<DynamicRaw> {
  const r = await callNative<DynamicRaw>('dynamicSamplingFilter', {
    rows: p.layout.rows,
    tokens: p.layout.tokens,
    offsets: p.layout.offsets,
    mask: p.layout.mask,
    scores: p.scores,
    tokenScores: p.tokenScores,
    sumMasked: p.sumMasked,
    keepSingletons: p.keepSingletons,
    numGroups: p.numGroups,
    groupIds: p.groupIds,
    outGroupKept: p.groupKept,
    outRows: p.rowsOut,
  });
  return { badRow: r.badRow, badValue: r.badValue, kept: r.kept ?? 0, keptGroups: r.keptGroups ?? 0 };
}
