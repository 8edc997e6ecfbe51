// KL estimators per token (klPenalty) and KL in the reward (inRewardKl): a line-by-line mirror of
// lib/kl/kl.ref.ts. Every float operation rounds to f32 as Math.fround does there (x86-64 float
// arithmetic has no excess precision); exp runs in double and is rounded once, as
// Math.fround(Math.exp(x)). Never build with -ffast-math: the NaN/clamp semantics are the point.
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"

namespace rewardkit {
namespace {

constexpr size_t kMinTokensPerThread = size_t{1} << 16;

// Kernel codes: KlCode in lib/kl/kl.ts.
enum Code : int { VerlK1, VerlAbs, VerlK2, VerlK3, OpenrlhfK1, OpenrlhfK2, OpenrlhfK3, TrlK1, TrlK3, kCodes };

inline float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }  // NaN passes
inline bool inside(float x, float lo, float hi) { return x >= lo && x <= hi; }              // false for NaN
inline float expf32(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }

// One token: the estimate, and ∂kl/∂logp in g (klToken in kl.ref.ts).
template <int C>
inline float klToken(float lp, float rp, float& g) {
  if constexpr (C == VerlK1) {
    g = 1.0f;
    return lp - rp;
  } else if constexpr (C == VerlAbs) {
    const float d = lp - rp;
    g = d > 0 ? 1.0f : (d < 0 ? -1.0f : 0.0f);
    return std::fabs(d);
  } else if constexpr (C == VerlK2) {
    const float d = lp - rp;
    g = d;
    return 0.5f * (d * d);
  } else if constexpr (C == VerlK3) {
    const float k = rp - lp;
    const float kc = clampf(k, -20.0f, 20.0f);
    const float r = expf32(kc);
    const float v = (r - kc) - 1.0f;
    g = inside(k, -20.0f, 20.0f) && inside(v, -10.0f, 10.0f) ? -(r - 1.0f) : 0.0f;
    return clampf(v, -10.0f, 10.0f);
  } else if constexpr (C == OpenrlhfK1) {
    const float d = lp - rp;
    g = inside(d, -10.0f, 10.0f) ? 1.0f : 0.0f;
    return clampf(d, -10.0f, 10.0f);
  } else if constexpr (C == OpenrlhfK2) {
    const float d = lp - rp;
    const float v = (d * d) / 2.0f;
    g = inside(v, -10.0f, 10.0f) ? d : 0.0f * (2.0f * d);
    return clampf(v, -10.0f, 10.0f);
  } else if constexpr (C == OpenrlhfK3) {
    const float k = -(lp - rp);
    const float r = expf32(k);
    const float v = (r - 1.0f) - k;
    g = -(inside(v, -10.0f, 10.0f) ? (r - 1.0f) : 0.0f * r);
    return clampf(v, -10.0f, 10.0f);
  } else if constexpr (C == TrlK1) {
    g = 1.0f;
    return -(rp - lp);
  } else {
    const float k = rp - lp;
    const float r = expf32(k);
    g = -(r - 1.0f);
    return (r - k) - 1.0f;
  }
}

struct PenaltyArgs {
  size_t tokens;
  const uint8_t* mask;  // null: every token trained
  const float* lp;
  const float* rp;
  bool straightThrough;
  float* kl;
  float* grad;  // null: gradients off
  float* gradRef;
};

template <int C>
void penalty(const PenaltyArgs& a) {
  parallel_for(a.tokens, kMinTokensPerThread, [&a](size_t begin, size_t end) {
    for (size_t t = begin; t < end; t++) {
      float g = 0.0f, v = 0.0f;
      if (a.mask == nullptr || a.mask[t] != 0) {
        v = klToken<C>(a.lp[t], a.rp[t], g);
        if (a.straightThrough) g = a.lp[t] - a.rp[t];  // the gradient of ½d² is d
      }
      a.kl[t] = v;
      if (a.grad) {
        a.grad[t] = g;
        a.gradRef[t] = -g;
      }
    }
  });
}

struct RewardArgs {
  size_t rows;
  const uint32_t* offsets;
  const uint8_t* mask;
  const float* lp;
  const float* rp;
  const float* scores;
  float beta;
  float* kl;
  float* rewards;
};

// Parallel over rows; each row summed in f64 in token order (the JS reference's order), then the
// row means combined in row order: the same additions as inRewardKlJs / batchMeanKl.
template <int C>
double reward(const RewardArgs& a) {
  std::vector<double> sums(a.rows), counts(a.rows);
  const size_t tokens = a.offsets[a.rows];
  const size_t avg = std::max<size_t>(1, tokens / std::max<size_t>(1, a.rows));
  parallel_for(a.rows, std::max<size_t>(1, kMinTokensPerThread / avg), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) {
      double sum = 0, count = 0;
      for (size_t t = a.offsets[i]; t < a.offsets[i + 1]; t++) {
        float v = 0.0f, g;
        if (a.mask == nullptr || a.mask[t] != 0) {
          v = klToken<C>(a.lp[t], a.rp[t], g);
          sum += static_cast<double>(v);
          count += 1;
        }
        a.kl[t] = v;
        a.rewards[t] = a.scores[t] - a.beta * v;
      }
      sums[i] = sum;
      counts[i] = count;
    }
  });
  double total = 0;
  for (size_t i = 0; i < a.rows; i++) total += sums[i] / (counts[i] + 1e-8);
  return total / static_cast<double>(a.rows);
}

template <typename A, typename R>
R dispatch(int code, const A& a, R (*const table[kCodes])(const A&)) {
  return table[code](a);
}

Napi::Value KlPenalty(const Napi::CallbackInfo& info) {
  OpArgs a(info, "klPenalty");
  PenaltyArgs p{};
  p.tokens = a.size("tokens");
  const int code = a.choice("code", kCodes);
  p.straightThrough = a.flag("straightThrough");
  p.mask = a.optional<uint8_t>("mask", p.tokens);
  p.lp = a.array<float>("logProbs", p.tokens);
  p.rp = a.array<float>("refLogProbs", p.tokens);
  p.kl = a.array<float>("outKl", p.tokens);
  p.grad = a.optional<float>("outGrad", p.tokens);
  p.gradRef = a.optional<float>("outGradRef", p.tokens);
  if ((p.grad == nullptr) != (p.gradRef == nullptr)) a.range("expected both outGrad and outGradRef, or neither");
  static void (*const table[kCodes])(const PenaltyArgs&) = {
      penalty<VerlK1>, penalty<VerlAbs>, penalty<VerlK2>, penalty<VerlK3>, penalty<OpenrlhfK1>,
      penalty<OpenrlhfK2>, penalty<OpenrlhfK3>, penalty<TrlK1>, penalty<TrlK3>};
  return a.queue([p, code](Outputs&) { dispatch(code, p, table); });
}

Napi::Value InRewardKl(const Napi::CallbackInfo& info) {
  OpArgs a(info, "inRewardKl");
  RewardArgs p{};
  p.rows = a.size("rows");
  if (p.rows < 1) a.range("expected rows >= 1");
  const uint64_t tokens = a.size("tokens");
  p.offsets = a.offsets("offsets", p.rows, tokens);
  const int code = a.choice("code", kCodes);
  p.mask = a.optional<uint8_t>("mask", tokens);
  p.lp = a.array<float>("logProbs", tokens);
  p.rp = a.array<float>("refLogProbs", tokens);
  p.scores = a.array<float>("scores", tokens);
  p.beta = static_cast<float>(a.number("beta"));
  p.kl = a.array<float>("outKl", tokens);
  p.rewards = a.array<float>("outRewards", tokens);
  static double (*const table[kCodes])(const RewardArgs&) = {
      reward<VerlK1>, reward<VerlAbs>, reward<VerlK2>, reward<VerlK3>, reward<OpenrlhfK1>,
      reward<OpenrlhfK2>, reward<OpenrlhfK3>, reward<TrlK1>, reward<TrlK3>};
  return a.queue([p, code](Outputs& r) { r.emplace_back("meanKl", dispatch(code, p, table)); });
}

}  // namespace

REWARDKIT_OP("klPenalty", KlPenalty);
REWARDKIT_OP("inRewardKl", InRewardKl);

}  // namespace rewardkit
