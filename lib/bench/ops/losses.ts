/**
 * Benchmark declarations of the loss-side ops (issue 3): policyLoss in every loss mode, aggLoss,
 * valueLoss, entropyLoss, the KL penalty (per estimator) and the in-reward KL, tokenLogProbs on
 * f32 and bf16 logits, and the fused grpoStep.
 *
 * Token inputs come from lib/bench/inputs.ts (a padded [rows, 1,024] batch with a ragged u8 mask,
 * log-probs of a policy step). Byte counts: every input array read once and every output written
 * once at its element size (u8 mask 1 B, f32/i32 4 B, bf16 2 B); padding tokens count, since the
 * padded layout makes the op touch them. Outputs are allocated once per case and passed as `out`.
 */
import {
  AdaptiveKlController, aggLoss, entropyLoss, FixedKlController, grpoStep, inRewardKl, klPenalty, policyLoss, tokenLogProbs, valueLoss,
  type KlEstimator, type LogitsDtype, type PolicyLoss,
} from '../../index.js';
import { floats, GROUP, hash01, logProbTriple, tokenSizes } from '../inputs.js';
import { all, batchLabel, batchOf, n, smallUpTo, type Batch } from './advantages.js';
import type { BenchCase, OpBench, Preset } from '../types.js';

/**
 * `small` sweeps by weight: the KL ops (21 B/token) top at 4M tokens, the losses (21 B/token, and
 * several GPU passes) at 2M, grpoStep (advantages, loss and KL in several passes) at 1M.
 */
const sizes: Record<Preset, readonly number[]> = tokenSizes;
const klSizes = smallUpTo(4 << 20), lossSizes = smallUpTo(2 << 20);
const stepSizes: Record<Preset, readonly number[]> = { ...tokenSizes, small: [1024, 64 * 1024, 256 * 1024, 1024 * 1024] };

/** Row advantages in [−1, 1) broadcast over each row's trained tokens, 0 on padding (as GRPO gives). */
function advantagesOf(b: Batch): Float32Array {
  const a = new Float32Array(b.tokens);
  for (let i = 0; i < b.rows; i++) a.fill(2 * hash01(i, 11) - 1, i * b.cols, i * b.cols + b.lengths[i]!);
  return a;
}

/** One case per loss mode; the verl preset (PPO clip 0.2, dual-clip c = 3, token-mean) except `trl`, which takes TRL's. */
const policyModes: readonly PolicyLoss[] = ['vanilla', 'trl', 'gspo', 'cispo', 'sapo', 'gpg', 'gmpo'];
const policy: OpBench[] = policyModes.map((loss) => ({
  id: `policyLoss/${loss}`, op: 'policyLoss', family: 'losses', unit: 'tokens', backends: all, bound: 'memory', sizes: lossSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const { logProbs, oldLogProbs } = logProbTriple(b.tokens);
    const advantages = advantagesOf(b);
    const out = { tokenLoss: new Float32Array(b.tokens), gradient: new Float32Array(b.tokens) };
    const { mask, shape } = b;
    const preset = loss === 'trl' ? 'trl' : 'verl';
    const c: BenchCase = {
      label: batchLabel(b, `, ${preset} preset`),
      // Read logp, old logp, advantages (4 B each) and mask (1 B); write token loss and gradient (4 + 4 B), per token.
      bytes: b.tokens * (4 * 3 + 1 + 4 * 2),
      run: (backend) => policyLoss({ logProbs, oldLogProbs, advantages, mask, shape, loss, preset, backend, out }),
    };
    if (loss === 'vanilla') {
      c.peer = { op: 'policyLoss', inputs: { logProbs, oldLogProbs, advantages, mask }, params: { clipLow: 0.2, clipHigh: 0.2, clipC: 3 } };
    }
    return c;
  },
}));

const agg: OpBench = {
  id: 'aggLoss', op: 'aggLoss', family: 'losses', unit: 'tokens', backends: all, bound: 'memory', sizes: lossSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const lossMat = floats(b.tokens, 12, -1, 1);
    const out = { gradient: new Float32Array(b.tokens) };
    const { mask, shape } = b;
    return {
      label: batchLabel(b, ', token-mean'),
      // Read the loss matrix (4 B) and mask (1 B); write the gradient (4 B), per token.
      bytes: b.tokens * (4 + 1 + 4),
      run: (backend) => aggLoss({ lossMat, mask, shape, backend, out }),
    };
  },
};

const value: OpBench = {
  id: 'valueLoss', op: 'valueLoss', family: 'losses', unit: 'tokens', backends: all, bound: 'memory', sizes: lossSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const values = floats(b.tokens, 13, -1, 1), returns = floats(b.tokens, 14, -1, 1);
    const vpreds = new Float32Array(b.tokens);
    for (let t = 0; t < b.tokens; t++) vpreds[t] = values[t]! + 1.5 * (hash01(t, 15) - 0.5);
    const out = { tokenLoss: new Float32Array(b.tokens), gradient: new Float32Array(b.tokens) };
    const { mask, shape } = b;
    return {
      label: batchLabel(b, ', cliprange 0.5'),
      // Read vpreds, values, returns (4 B each) and mask (1 B); write token loss and gradient (4 + 4 B), per token.
      bytes: b.tokens * (4 * 3 + 1 + 4 * 2),
      run: (backend) => valueLoss({ vpreds, values, returns, mask, shape, cliprange: 0.5, backend, out }),
    };
  },
};

/** JS only: one masked mean over the entropies (the entropies themselves come from tokenLogProbs). */
const entropy: OpBench = {
  id: 'entropyLoss', op: 'entropyLoss', family: 'losses', unit: 'tokens', backends: ['js'], bound: 'memory', sizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const h = floats(b.tokens, 16, 0, 5);
    const { mask, shape } = b;
    return {
      label: batchLabel(b, ', token-mean'),
      // Read entropies (4 B) and mask (1 B) per token; the result is one number.
      bytes: b.tokens * (4 + 1),
      run: () => entropyLoss({ entropy: h, mask, shape }),
    };
  },
};

/** verl's estimators (k1 = 'kl', abs, k2 = 'mse', k3 = 'low_var_kl') with both gradients. */
const klEstimators: readonly KlEstimator[] = ['k1', 'abs', 'k2', 'k3'];
const kl: OpBench[] = klEstimators.map((estimator) => ({
  id: `klPenalty/${estimator}`, op: 'klPenalty', family: 'kl', unit: 'tokens', backends: all, bound: 'memory', sizes: klSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const { logProbs, refLogProbs } = logProbTriple(b.tokens);
    const out = { kl: new Float32Array(b.tokens), gradLogProbs: new Float32Array(b.tokens), gradRefLogProbs: new Float32Array(b.tokens) };
    const { mask, shape } = b;
    const c: BenchCase = {
      label: batchLabel(b, ', with gradients'),
      // Read logp, ref logp (4 + 4 B) and mask (1 B); write kl and its two gradients (3 × 4 B), per token.
      bytes: b.tokens * (4 + 4 + 1 + 4 * 3),
      run: (backend) => klPenalty({ logProbs, refLogProbs, mask, shape, estimator, backend, out }),
    };
    if (estimator === 'k3') c.peer = { op: 'klK3', inputs: { logProbs, refLogProbs } };
    return c;
  },
}));

/** verl apply_kl_penalty: token rewards = scores − β·kl (k1, verl's default kl_penalty), β = 0.001. */
const inReward: OpBench = {
  id: 'inRewardKl', op: 'inRewardKl', family: 'kl', unit: 'tokens', backends: all, bound: 'memory', sizes: klSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const { logProbs, refLogProbs } = logProbTriple(b.tokens);
    const scores = new Float32Array(b.tokens);
    for (let i = 0; i < b.rows; i++) scores[i * b.cols + b.lengths[i]! - 1] = b.scores[i]!;
    const out = { rewards: new Float32Array(b.tokens), kl: new Float32Array(b.tokens) };
    const { mask, shape } = b;
    return {
      label: batchLabel(b, ', k1, β = 0.001'),
      // Read logp, ref logp, scores (3 × 4 B) and mask (1 B); write rewards and kl (4 + 4 B), per token.
      bytes: b.tokens * (4 * 3 + 1 + 4 * 2),
      run: (backend) => inRewardKl({ logProbs, refLogProbs, scores, mask, shape, estimator: 'k1', beta: 0.001, backend, out }),
    };
  },
};

/**
 * Logits [rows, vocab]: size counts logits. Llama-2's 32,000 vocabulary up to 512 rows; on a data
 * centre also Qwen's 151,936 (bf16 up to 4,096 rows, a 1.2 GB batch).
 */
const V_SMALL = 32_000, V_QWEN = 151_936;
const logitSizes = (dtype: LogitsDtype): Record<Preset, readonly number[]> => ({
  smoke: [4 * V_SMALL],
  small: [1, 16, 128, 512].map((r) => r * V_SMALL),
  laptop: [1, 16, 128, 512, 2048].map((r) => r * V_SMALL),
  datacenter: [...[1, 16, 128, 512].map((r) => r * V_SMALL), ...(dtype === 'bf16' ? [1024, 4096] : [1024]).map((r) => r * V_QWEN)],
});
/** The vocabulary of a size: Qwen's when it divides it (no multiple of 32,000 below 1,187 rows is one), else 32,000. */
const vocabOf = (logits: number) => (logits % V_QWEN === 0 ? V_QWEN : V_SMALL);

/**
 * Logits in [−4, 4) (f32, or the top 16 bits for bf16): 64 distinct rows tiled over the batch, so a
 * 1.2 GB batch builds at copy speed. Labels differ per row.
 */
function logitsOf(rows: number, vocab: number, dtype: LogitsDtype): Float32Array | Uint16Array {
  const distinct = Math.min(rows, 64);
  const f32 = floats(distinct * vocab, 17, -4, 4);
  const block = dtype === 'f32' ? f32 : new Uint16Array(distinct * vocab);
  if (block instanceof Uint16Array) {
    const bits = new Uint32Array(f32.buffer);
    for (let i = 0; i < block.length; i++) block[i] = bits[i]! >>> 16;
  }
  if (distinct === rows) return block;
  const all = dtype === 'f32' ? new Float32Array(rows * vocab) : new Uint16Array(rows * vocab);
  for (let r = 0; r < rows; r += distinct) all.set(block.subarray(0, Math.min(distinct, rows - r) * vocab), r * vocab);
  return all;
}

const logprobs: OpBench[] = (['f32', 'bf16'] as const).map((dtype) => ({
  id: `tokenLogProbs/${dtype}`, op: 'tokenLogProbs', family: 'logits', unit: 'logits', backends: all, bound: 'memory', sizes: logitSizes(dtype),
  setup(size): BenchCase {
    const vocab = vocabOf(size), rows = size / vocab;
    const logits = logitsOf(rows, vocab, dtype);
    const labels = Int32Array.from({ length: rows }, (_, i) => Math.floor(hash01(i, 18) * vocab));
    const out = { logProbs: new Float32Array(rows), entropy: new Float32Array(rows) };
    return {
      label: `${n(rows)} × ${n(vocab)} ${dtype} logits`,
      // Read logits (4 or 2 B each) and labels (4 B/row); write log-prob and entropy (4 + 4 B/row).
      bytes: logits.byteLength + rows * (4 + 4 + 4),
      run: (backend) => tokenLogProbs({ logits, shape: [rows, vocab], labels, backend, out }),
      peer: { op: 'logprobsEntropy', inputs: { logits, labels }, params: { rows, vocab, dtype } },
    };
  },
}));

/**
 * The fused step as a verl GRPO actor update computes it: GRPO advantages (verl), vanilla PPO loss
 * and a k3 KL loss (coefficient 0.001), reading back the gradient into arrays reused across calls.
 */
const step: OpBench = {
  id: 'grpoStep', op: 'grpoStep', family: 'losses', unit: 'tokens', backends: all, bound: 'memory', sizes: stepSizes,
  setup(tokens): BenchCase {
    const b = batchOf(tokens);
    const { logProbs, oldLogProbs, refLogProbs } = logProbTriple(b.tokens);
    const { scores, groups, mask, shape } = b;
    const out = { tokenAdvantages: new Float32Array(b.tokens), rowAdvantages: new Float32Array(b.rows), tokenLoss: new Float32Array(b.tokens), gradient: new Float32Array(b.tokens) };
    return {
      label: batchLabel(b, `, groups of ${GROUP}, k3 KL`),
      // Read mask (1 B), logp, old and ref logp (3 × 4 B) per token, scores and groups (4 + 4 B/row);
      // write the gradient (4 B/token). Advantages and per-token losses stay inside the op.
      bytes: b.tokens * (1 + 4 * 3 + 4) + b.rows * (4 + 4),
      run: (backend) => grpoStep({
        scores, groups, mask, shape, scoreLevel: 'row', logProbs, oldLogProbs, refLogProbs, klCoef: 0.001, klEstimator: 'k3',
        read: ['gradient'], backend, out,
      }),
    };
  },
};

/** The KL coefficient controllers: `size` updates per call (each is a few scalar operations). */
const controllers: OpBench[] = (['FixedKlController', 'AdaptiveKlController'] as const).map((name) => ({
  id: name, op: name, family: 'kl', unit: 'updates', backends: ['js'], bound: 'cpu',
  sizes: { smoke: [1000], small: [1000, 100000], laptop: [1000, 100000], datacenter: [1000, 100000] },
  setup(count: number) {
    const c = name === 'FixedKlController' ? new FixedKlController(0.001) : new AdaptiveKlController(0.2, 6, 10000);
    return { label: `${count} updates`, bytes: 0, run: () => { for (let i = 0; i < count; i++) c.update(4 + (i % 5), 256); return c.value; } };
  },
}));

export const lossOps: OpBench[] = [...policy, agg, value, entropy, ...kl, inReward, ...controllers, ...logprobs, step];
