/** The token estimators on the native addon (native/token.cc, a mirror of token.ref.ts). */
import { callNative } from '../backends/native.js';
import { estimatorCode, type TokenProblem, type TokenRaw } from './token.js';

export async function tokenNative(p: TokenProblem): Promise<TokenRaw> {
  const { layout } = p;
  return callNative<TokenRaw>('tokenAdvantages', {
    estimator: estimatorCode[p.estimator],
    rows: layout.rows,
    tokens: layout.tokens,
    offsets: layout.offsets,
    mask: layout.mask,
    rewards: p.rewards,
    values: p.values,
    baselines: p.baselines,
    gamma: p.gamma,
    lambda: p.lambda,
    outAdvantages: p.outAdvantages,
    outReturns: p.outReturns,
  });
}
