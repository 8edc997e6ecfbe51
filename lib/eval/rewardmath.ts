/**
 * RewardMATH one-correct-vs-many metrics (kimsh0507/RewardMATH_official `src/evaluation/eval.py`
 * `_calculate_MRR` / `get_results`). Bookkeeping: JS only.
 */
import { describe, fail } from '../errors.js';
import { mean, scoresOf } from './check.js';

export interface RewardMathProblem { chosen: readonly number[]; rejected: readonly number[] }
export interface RewardMathScores { accuracy: number; accuracyWithTie: number; mrr: number; rank: number }

/**
 * Per problem: accuracy `min(chosen) > max(rejected)`, tie-tolerant `>=`, MRR = 1/rank of the first
 * chosen after sorting all candidates by score descending with equal scores ranking the chosen AFTER
 * the rejected ('rej' > 'cho' under reverse=True), and rank = (N − r)/(N − 1) (NaN for N = 1).
 */
export function rewardMath(problems: readonly RewardMathProblem[]): { perProblem: RewardMathScores[]; mean: RewardMathScores } {
  if (!Array.isArray(problems) || problems.length === 0) fail('E_SHAPE', 'problems', 'a non-empty array of { chosen, rejected }', describe(problems));
  const per = problems.map((p, i): RewardMathScores => {
    if (p === null || typeof p !== 'object') fail('E_VALUE', `problems[${i}]`, 'an object { chosen, rejected }', describe(p));
    const c = scoresOf(p.chosen, `problems[${i}].chosen`), r = scoresOf(p.rejected, `problems[${i}].rejected`);
    const lo = Math.min(...c), hi = Math.max(...r);
    // The first chosen in the order is the best one; every rejected at or above it comes first.
    const best = Math.max(...c);
    const ahead = r.filter((x) => x >= best).length; // rejected at or above the best chosen
    const position = ahead + 1, N = c.length + r.length;
    return { accuracy: lo > hi ? 1 : 0, accuracyWithTie: lo >= hi ? 1 : 0, mrr: 1 / position, rank: (N - position) / (N - 1) };
  });
  const avg = (k: keyof RewardMathScores) => mean(per.map((x) => x[k]));
  return { perProblem: per, mean: { accuracy: avg('accuracy'), accuracyWithTie: avg('accuracyWithTie'), mrr: avg('mrr'), rank: avg('rank') } };
}
