/**
 * Benchmark declarations of the advantage ops (issue 3): GRPO and every outcome estimator, process
 * supervision, dynamic sampling, the overlong penalty, the masked statistics and the token
 * estimators (REINFORCE++, GAE, ReMax).
 *
 * Inputs come from lib/bench/inputs.ts: a padded [rows, 1,024] batch, ragged u8 mask, 0/1 row
 * scores, groups of 16. Byte counts: every input array read once and every output written once, at
 * its element size (u8 mask 1 B, f32/i32/u32 4 B); padding tokens count, since the padded layout
 * makes the op touch them. Outputs are allocated once per case and passed as `out`.
 */
import { builtinCodes } from '../../advantage/outcome.js';
import {
  dynamicSamplingFilter, gae, grpoAdvantages, maskedMean, maskedSum, maskedVar, maskedWhiten, outcomeAdvantages,
  outcomeEstimators, overlongPenalty, processAdvantages, reinforcePlusPlus, remax, type GaePreset,
} from '../../index.js';
import { allBackends, COLS, count, floats, GROUP, hash01, tokenBatch, tokenSizes } from '../inputs.js';
import type { BenchCase, OpBench, Preset } from '../types.js';

export const all = allBackends;
export const n = count;
export const batchLabel = (b: { rows: number; cols: number }, extra = '') => `${n(b.rows)} × ${n(b.cols)} tokens${extra}`;

/**
 * The shared batch with rows narrowed below 16 × 1,024 tokens so that it always holds a whole group
 * of 16 (1,024 tokens: 16 × 64): group estimators such as RLOO need two rows per group.
 */
export const batchOf = (tokens: number) => tokenBatch(tokens, Math.min(COLS, Math.max(1, Math.floor(tokens / GROUP))));
export type Batch = ReturnType<typeof batchOf>;

/** Token sweeps: the shared ones (1k .. 8M tokens on `small`). */
const sizes: Record<Preset, readonly number[]> = tokenSizes;

/**
 * The shared sweeps with `small` topped at `top` tokens: for ops whose GPU path makes several passes
 * over 9–21 B/token, where lavapipe on the 2-core machine would otherwise take a second per call.
 */
export const smallUpTo = (top: number): Record<Preset, readonly number[]> =>
  ({ ...tokenSizes, small: [...tokenSizes.small.filter((s) => s < top), top] });
/** Token scans and whitening (9–17 B/token, several passes on the GPU): 4M tokens on `small`. */
const scanSizes = smallUpTo(4 << 20);

/** Outcome-level inputs (GRPO, the registry's estimators): row scores, groups, mask, reused outputs. */
function outcomeCase(tokens: number) {
  const b = batchOf(tokens);
  const out = { tokenAdvantages: new Float32Array(b.tokens), rowAdvantages: new Float32Array(b.rows) };
  // Read mask (1 B/token), scores and groups (4 + 4 B/row); write token (4 B) and row (4 B) advantages.
  const bytes = b.tokens * (1 + 4) + b.rows * (4 + 4 + 4);
  return { b, out, bytes, label: batchLabel(b, `, groups of ${GROUP}`) };
}

/** Token-level rewards: the row's score on its last trained token, as verl's token_level_rewards. */
function sparseRewards(b: Batch): Float32Array {
  const r = new Float32Array(b.tokens);
  for (let i = 0; i < b.rows; i++) r[i * b.cols + b.lengths[i]! - 1] = b.scores[i]!;
  return r;
}

const grpo: OpBench = {
  id: 'grpoAdvantages', op: 'grpoAdvantages', family: 'advantages', unit: 'tokens', backends: all, bound: 'memory', sizes,
  setup(tokens): BenchCase {
    const { b, out, bytes, label } = outcomeCase(tokens);
    const { scores, mask, groups, shape } = b;
    return {
      label, bytes,
      run: (backend) => grpoAdvantages({ scores, mask, shape, groups, scoreLevel: 'row', backend, out }),
      peer: { op: 'grpo', inputs: { scores, groups, mask }, params: { rows: b.rows, cols: b.cols, epsilon: 1e-6 } },
    };
  },
};

// Every estimator in the registry; built-ins (and the three that delegate to grpoAdvantages) run on
// every backend, a custom one registered before this module loads only on js.
const delegating = new Set(['grpo', 'dr_grpo', 'trl_grpo']);
const outcome: OpBench[] = outcomeEstimators().map((estimator) => ({
  id: `outcomeAdvantages/${estimator}`, op: 'outcomeAdvantages', family: 'advantages', unit: 'tokens',
  backends: delegating.has(estimator) || estimator in builtinCodes ? all : ['js'], bound: 'memory', sizes,
  setup(tokens): BenchCase {
    const { b, out, bytes, label } = outcomeCase(tokens);
    const { scores, mask, groups, shape } = b;
    const c: BenchCase = { label, bytes, run: (backend) => outcomeAdvantages({ estimator, scores, mask, shape, groups, scoreLevel: 'row', backend, out }) };
    if (estimator === 'rloo') c.peer = { op: 'rloo', inputs: { scores, groups, mask }, params: { rows: b.rows, cols: b.cols, epsilon: 1e-6 } };
    return c;
  },
}));

const processOp: OpBench = {
  id: 'processAdvantages', op: 'processAdvantages', family: 'advantages', unit: 'tokens', backends: all, bound: 'memory', sizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const steps = 4 * b.rows;
    // Four steps per row, ending at 10%, 30%, 60% and 100% of the padded row.
    const stepOffsets = Uint32Array.from({ length: b.rows + 1 }, (_, i) => 4 * i);
    const ends = [0.1, 0.3, 0.6, 1].map((f) => Math.max(0, Math.floor(b.cols * f) - 1));
    const stepEnds = Uint32Array.from({ length: steps }, (_, j) => ends[j % 4]!);
    const stepRewards = floats(steps, 7, 0, 1);
    const out = { tokenAdvantages: new Float32Array(b.tokens), stepAdvantages: new Float32Array(steps) };
    const { mask, shape, groups } = b;
    return {
      label: batchLabel(b, ', 4 steps per row'),
      // Read mask (1 B/token), step rewards, ends (4 + 4 B/step), offsets and groups (4 + 4 B/row);
      // write token advantages (4 B/token) and step advantages (4 B/step).
      bytes: b.tokens * (1 + 4) + steps * (4 + 4 + 4) + b.rows * (4 + 4) + 4,
      run: (backend) => processAdvantages({ stepRewards, stepEnds, stepOffsets, mask, shape, groups, backend, out }),
    };
  },
};

/** Row-level: scores and groups only, so the sweep is in responses (8,192 is a large verl batch). */
const dynamic: OpBench = {
  id: 'dynamicSamplingFilter', op: 'dynamicSamplingFilter', family: 'advantages', unit: 'responses', backends: all, bound: 'memory',
  sizes: {
    smoke: [256],
    small: [64, 1024, 8192, 65536],
    laptop: [64, 1024, 8192, 65536, 1 << 20],
    datacenter: [64, 1024, 8192, 65536, 1 << 20, 1 << 22],
  },
  async setup(rows): Promise<BenchCase> {
    // 0/1 scores (45% ones) in groups of 16: nearly every group is mixed, so nearly every row is kept.
    const scores = Float32Array.from({ length: rows }, (_, i) => (hash01(i, 2) < 0.45 ? 1 : 0));
    const groups = Int32Array.from({ length: rows }, (_, i) => Math.floor(i / GROUP));
    const groupCount = Math.ceil(rows / GROUP);
    const kept = (await dynamicSamplingFilter({ scores, groups, backend: 'js' })).keptRows.length;
    return {
      label: `${n(rows)} responses, groups of ${GROUP}`,
      // Read scores and groups (4 + 4 B/row); write the kept rows' indices (4 B each) and a flag per group.
      bytes: rows * (4 + 4) + kept * 4 + groupCount,
      run: (backend) => dynamicSamplingFilter({ scores, groups, backend }),
    };
  },
};

/** Lengths counted from the mask (what verl does with response_mask.sum(-1)), then added to the scores. */
const overlong: OpBench = {
  id: 'overlongPenalty', op: 'overlongPenalty', family: 'advantages', unit: 'tokens', backends: all, bound: 'memory', sizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const out = { penalties: new Float32Array(b.rows), scores: new Float32Array(b.rows) };
    const { mask, shape, scores } = b;
    // The DAPO recipe's Lmax = 20,480 and Lc = 4,096 scaled to these 1,024-token rows, so some rows are penalised.
    const maxLength = b.cols, buffer = Math.max(1, Math.floor(b.cols / 4));
    return {
      label: batchLabel(b, `, Lmax ${n(maxLength)}, buffer ${n(buffer)}`),
      // Read mask (1 B/token) and scores (4 B/row); write penalties and penalised scores (4 + 4 B/row).
      bytes: b.tokens + b.rows * (4 + 4 + 4),
      run: (backend) => overlongPenalty({ mask, shape, scores, maxLength, buffer, backend, out }),
    };
  },
};

/** maskedSum/Mean/Var over the whole batch (verl axis=None) and maskedWhiten. */
const masked: OpBench[] = (['maskedSum', 'maskedMean', 'maskedVar', 'maskedWhiten'] as const).map((op) => ({
  id: op, op, family: 'advantages', unit: 'tokens', backends: all, bound: 'memory', sizes: op === 'maskedWhiten' ? scanSizes : sizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const values = floats(b.tokens, 6, -2, 2);
    const whiten = op === 'maskedWhiten';
    const out = new Float32Array(whiten ? b.tokens : 1);
    const fn = { maskedSum, maskedMean, maskedVar, maskedWhiten }[op];
    const { mask, shape } = b;
    const c: BenchCase = {
      label: batchLabel(b),
      // Read values (4 B/token) and mask (1 B/token); write one number, or (whiten) 4 B/token.
      bytes: b.tokens * (4 + 1) + (whiten ? b.tokens * 4 : 4),
      run: (backend) => fn({ values, mask, shape, backend, out }),
    };
    if (whiten) c.peer = { op: 'maskedWhiten', inputs: { values, mask } };
    return c;
  },
}));

const reinforce: OpBench = {
  id: 'reinforcePlusPlus', op: 'reinforcePlusPlus', family: 'advantages', unit: 'tokens', backends: all, bound: 'memory', sizes: scanSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const rewards = sparseRewards(b);
    const out = { advantages: new Float32Array(b.tokens), returns: new Float32Array(b.tokens) };
    const { mask, shape } = b;
    return {
      label: batchLabel(b, ', γ = 1'),
      // Read rewards (4 B) and mask (1 B); write advantages and returns (4 + 4 B), per token.
      bytes: b.tokens * (4 + 1 + 4 + 4),
      run: (backend) => reinforcePlusPlus({ rewards, mask, shape, backend, out }),
    };
  },
};

/** GAE with verl's and OpenRLHF's conventions (carry across padding or not, whitening). */
const gaeOps: OpBench[] = (['verl', 'openrlhf'] as const satisfies readonly GaePreset[]).map((preset) => ({
  id: `gae/${preset}`, op: 'gae', family: 'advantages', unit: 'tokens', backends: all, bound: 'memory', sizes: scanSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const rewards = sparseRewards(b), values = floats(b.tokens, 8, -0.5, 0.5);
    const out = { advantages: new Float32Array(b.tokens), returns: new Float32Array(b.tokens) };
    const { mask, shape } = b;
    const gamma = 1, lambda = 0.95;
    const c: BenchCase = {
      label: batchLabel(b, `, γ = ${gamma}, λ = ${lambda}`),
      // Read rewards, values (4 + 4 B) and mask (1 B); write advantages and returns (4 + 4 B), per token.
      bytes: b.tokens * (4 + 4 + 1 + 4 + 4),
      run: (backend) => gae({ rewards, values, mask, shape, gamma, lambda, preset, backend, out }),
    };
    if (preset === 'verl') c.peer = { op: 'gae', inputs: { rewards, values, mask }, params: { rows: b.rows, cols: b.cols, gamma, lam: lambda } };
    return c;
  },
}));

const remaxOp: OpBench = {
  id: 'remax', op: 'remax', family: 'advantages', unit: 'tokens', backends: all, bound: 'memory', sizes: scanSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const rewards = sparseRewards(b), baselines = floats(b.rows, 9, 0, 1);
    const out = { advantages: new Float32Array(b.tokens), returns: new Float32Array(b.tokens) };
    const { mask, shape } = b;
    return {
      label: batchLabel(b),
      // Read rewards (4 B) and mask (1 B), write advantages and returns (4 + 4 B), per token; read baselines (4 B/row).
      bytes: b.tokens * (4 + 1 + 4 + 4) + b.rows * 4,
      run: (backend) => remax({ rewards, baselines, mask, shape, backend, out }),
    };
  },
};

export const advantageOps: OpBench[] = [
  grpo, ...outcome, processOp, dynamic, overlong, ...masked, reinforce, ...gaeOps, remaxOp,
];
