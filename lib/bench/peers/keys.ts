/**
 * The peer ops: what each key computes and the inputs a `PeerCall` carries for it. rewardkit's op
 * declarations (lib/bench/ops/) build these from the very arrays they hand rewardkit; each peer
 * (numpy and PyTorch in bench/py/peers.py, TensorFlow.js in tfjs.ts) implements the keys it can, as
 * a user of that library would write the math (vectorised, no Python loops over tokens).
 *
 * Conventions: padded [rows, cols] token arrays are flat row-major; `mask` is u8 0/1; outputs are
 * computed in f32 and discarded (only time is measured).
 */
export const peerOps = {
  /** verl GRPO (vectorised form): per-group mean/std (unbiased) of `scores`, (s−mean)/(std+eps) broadcast × mask. inputs scores f32[rows], groups i32[rows] (contiguous ids), mask u8[rows·cols]; params rows, cols, epsilon. */
  grpo: 'grpo',
  /** RLOO: s − (groupSum − s)/(n−1), broadcast × mask. Same inputs as grpo. */
  rloo: 'rloo',
  /** verl masked_whiten over the whole batch: (v − mean)·rsqrt(var_unbiased + 1e-8). inputs values f32[n], mask u8[n]. */
  maskedWhiten: 'maskedWhiten',
  /** verl GAE: reverse scan over cols, δ = r + γ·V' − V, then whiten advantages. inputs rewards, values f32[rows·cols], mask u8; params rows, cols, gamma, lam. */
  gae: 'gae',
  /** verl vanilla PPO clip loss (ratio = exp(clamp(lp − old, −20, 20)), εlow/εhigh, token-mean). inputs logProbs, oldLogProbs, advantages f32[n], mask u8[n]; params clipLow, clipHigh. */
  policyLoss: 'policyLoss',
  /** KL k3 (low_var_kl): exp(ref − lp) − (ref − lp) − 1, clamped to ±10. inputs logProbs, refLogProbs f32[n]. */
  klK3: 'klK3',
  /** log_softmax + gather of `labels` + entropy per row. inputs logits f32[rows·vocab] (or u16 bf16 bits with params.dtype 'bf16'), labels i32[rows]; params rows, vocab, dtype. */
  logprobsEntropy: 'logprobsEntropy',
  /** K two-layer MLP heads on pooled states: scores[k] = silu(h·W1ₖᵀ + b1ₖ)·w2ₖ + b2ₖ. inputs hidden f32[B·H], w1 f32[K·width·H], b1 f32[K·width], w2 f32[K·width]; params B, H, width, K. */
  mlpHeads: 'mlpHeads',
  /** Ensemble reduction over K members: inputs scores f32[K·B]; params K, B, reduce ('mean' | 'min' | 'median' | 'uwo': mean − coef·var with ddof 0 or 1). */
  ensemble: 'ensemble',
  /** Bradley–Terry: loss = −mean(logsigmoid(chosen − rejected)), accuracy. inputs chosen, rejected f32[n]. */
  bradleyTerry: 'bradleyTerry',
  /** Flow-GRPO SDE step with log-prob (flow_grpo sde_step_with_logprob): per-row sigma, sigmaPrev; std_dev_t = sqrt(σ/(1−σ))·noiseLevel; mean, prev = mean + std·√(−dt)·ε, log_prob mean over non-batch dims. inputs sample, modelOutput, noise f32[B·D], sigma, sigmaPrev f32[B]; params B, D, noiseLevel. */
  sdeStep: 'sdeStep',
} as const;

export type PeerOp = keyof typeof peerOps;
