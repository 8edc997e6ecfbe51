/**
 * GRPO advantages on the native addon (native/grpo.cc, a line-by-line mirror of grpo.ref.ts): row
 * sums and the token broadcast run multi-threaded off the main thread.
 */
import { RewardkitError } from '../errors.js';
import { loadNative } from '../backends/native.js';
import type { GrpoProblem, GrpoRaw } from './grpo.js';

const scaleCode = { group: 0, batch: 1, none: 2 } as const;

export async function grpoNative(p: GrpoProblem): Promise<GrpoRaw> {
  const addon = loadNative(); // E_BACKEND_UNAVAILABLE when not built or not loadable
  let status: { badRow: number; badValue: number };
  try {
    status = await addon.grpoAdvantages({
      rows: p.rows,
      cols: p.cols,
      tokens: p.tokens,
      mask: p.mask,
      offsets: p.offsets,
      scores: p.scores,
      tokenScores: p.tokenScores,
      sumMasked: p.sumMasked,
      groupIds: p.groupIds,
      numGroups: p.numGroups,
      trl: p.convention === 'trl',
      scale: scaleCode[p.scale],
      epsilon: p.epsilon,
      outTokens: p.outTokens,
      outRows: p.outRows,
    });
  } catch (err) {
    // Argument errors are thrown synchronously by the addon, work failures reject: both land here.
    const message = err instanceof Error ? err.message : String(err);
    throw new RewardkitError('E_NATIVE', `The native grpoAdvantages failed: ${message}`, undefined, { cause: err });
  }
  return { badRow: status.badRow, badValue: status.badValue };
}
