// Policy / aggregation / value losses: a line-by-line mirror of lib/loss/policy.ref.ts (same f32
// roundings per token, f64 sums), multi-threaded over rows.
#pragma once

#include <cstdint>

namespace rewardkit {

enum class LossKind : int { Vanilla = 0, Trl, Gspo, Cispo, Sapo, Gpg, Gmpo, Identity, Value, Kl };
enum class AggMode : int { TokenMean = 0, SeqMeanTokenSum, SeqMeanTokenMean, SeqMeanTokenSumNorm, Grpo, Bnpo, DrGrpo, Dapo };

struct LossArgs {
  uint64_t rows = 0, tokens = 0;
  const uint32_t* offsets = nullptr;  // [rows+1]
  const uint8_t* mask = nullptr;      // [tokens] 0/1, or null: every token trained
  const float* x = nullptr;           // logp | loss matrix | vpreds
  const float* old = nullptr;         // old logp | values (null for identity)
  const float* adv = nullptr;         // advantages | returns (null for identity)
  const float* weights = nullptr;     // importance weights or null
  LossKind kind = LossKind::Vanilla;
  AggMode agg = AggMode::TokenMean;
  double dpSize = 1, batchNumTokens = 0, globalBatchSize = 0, lossScaleFactor = 1;
  double maxCompletionLength = 0, numProcesses = 1, globalActiveTokens = 0;
  float lo = 0, hi = 0, clipC = 0, delta = 0, tauPos = 1, tauNeg = 1, cliprange = 0;
  int estimator = 3;  // kl: 0 k1, 1 abs, 2 k2, 3 k3
  double scale = 1;
  float* outLoss = nullptr;  // [tokens] or null (identity)
  float* outGrad = nullptr;  // [tokens]
  bool accumulate = false;   // outGrad += f32(gradient) (grpoStep's KL term), not =
};

struct LossTotals {
  double loss = 0, clipfrac = 0, ppoKl = 0, clipfracLower = 0;
};

LossTotals compute_loss(const LossArgs& a);

}  // namespace rewardkit
