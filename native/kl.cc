// KL estimators per token (klPenalty) and KL in the reward (inRewardKl): a mirror of
// lib/kl/kl.ref.ts. Every float operation rounds to f32 as Math.fround does there (x86-64 float
// arithmetic has no excess precision). Never build with -ffast-math: the NaN/clamp semantics are the
// point. With GCC/Clang the token loops run 8 lanes at a time (klLanes: the same operations as
// klToken, branch-free selects) with common/vexp.h's f32 exp, within 1 ulp of the reference's
// Math.fround(Math.exp(x)) (torch's own vectorised expf is as close), so the k3 estimators move data
// at close to memcpy speed; row sums go into per-lane f64 partials added in a fixed order. The scalar
// build rounds e^x from f64 (exactly the reference's value).
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

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

#if !REWARDKIT_VECTOR
// Tokens [begin, end) of klPenalty (the portable build; kl_lanes.inc holds the vector kernels).
template <int C>
inline void penaltyRange(const PenaltyArgs& a, size_t begin, size_t end) {
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
}
void penaltyChunk(int code, const PenaltyArgs& a, size_t begin, size_t end) {
  switch (code) {
    case VerlK1: penaltyRange<VerlK1>(a, begin, end); break;
    case VerlAbs: penaltyRange<VerlAbs>(a, begin, end); break;
    case VerlK2: penaltyRange<VerlK2>(a, begin, end); break;
    case VerlK3: penaltyRange<VerlK3>(a, begin, end); break;
    case OpenrlhfK1: penaltyRange<OpenrlhfK1>(a, begin, end); break;
    case OpenrlhfK2: penaltyRange<OpenrlhfK2>(a, begin, end); break;
    case OpenrlhfK3: penaltyRange<OpenrlhfK3>(a, begin, end); break;
    case TrlK1: penaltyRange<TrlK1>(a, begin, end); break;
    default: penaltyRange<TrlK3>(a, begin, end); break;
  }
}
#endif

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

#if REWARDKIT_VECTOR
namespace lanes8 {
#include "kl_lanes.inc"
}  // namespace lanes8
#if defined(__x86_64__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes16 {
#include "kl_lanes.inc"
}  // namespace lanes16
#pragma GCC pop_options

// Picked at load time (function multiversioning, see vexp.h): 16 lanes on AVX-512 (x86-64-v4), 8 on
// AVX2 and baseline x86-64, with the same bits; the estimator inlined into each.
__attribute__((target("default"))) void penaltyChunk(int code, const PenaltyArgs& a, size_t begin, size_t end) {
  lanes8::penaltyChunkOf<8>(code, a, begin, end);
}
__attribute__((target("avx2"))) void penaltyChunk(int code, const PenaltyArgs& a, size_t begin, size_t end) {
  lanes8::penaltyChunkOf<8>(code, a, begin, end);
}
__attribute__((target("arch=x86-64-v4"))) void penaltyChunk(int code, const PenaltyArgs& a, size_t begin, size_t end) {
  lanes16::penaltyChunkOf<16>(code, a, begin, end);
}
__attribute__((target("default"))) void rewardChunk(int code, const RewardArgs& a, double* sums, double* counts, size_t begin, size_t end) {
  lanes8::rewardChunkOf<8>(code, a, sums, counts, begin, end);
}
__attribute__((target("avx2"))) void rewardChunk(int code, const RewardArgs& a, double* sums, double* counts, size_t begin, size_t end) {
  lanes8::rewardChunkOf<8>(code, a, sums, counts, begin, end);
}
__attribute__((target("arch=x86-64-v4"))) void rewardChunk(int code, const RewardArgs& a, double* sums, double* counts, size_t begin, size_t end) {
  lanes16::rewardChunkOf<16>(code, a, sums, counts, begin, end);
}
#else
void penaltyChunk(int code, const PenaltyArgs& a, size_t begin, size_t end) { lanes8::penaltyChunkOf<8>(code, a, begin, end); }
void rewardChunk(int code, const RewardArgs& a, double* sums, double* counts, size_t begin, size_t end) {
  lanes8::rewardChunkOf<8>(code, a, sums, counts, begin, end);
}
#endif
#else
// Rows [begin, end) of inRewardKl (the portable build): kl, rewards, each row's f64 sum and count.
template <int C>
inline void rewardRows(const RewardArgs& a, double* sums, double* counts, size_t begin, size_t end) {
  for (size_t i = begin; i < end; i++) {
    const size_t t0 = a.offsets[i], t1 = a.offsets[i + 1];
    double sum = 0, count = 0;
    for (size_t t = t0; t < t1; t++) {
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
}
void rewardChunk(int code, const RewardArgs& a, double* sums, double* counts, size_t begin, size_t end) {
  switch (code) {
    case VerlK1: rewardRows<VerlK1>(a, sums, counts, begin, end); break;
    case VerlAbs: rewardRows<VerlAbs>(a, sums, counts, begin, end); break;
    case VerlK2: rewardRows<VerlK2>(a, sums, counts, begin, end); break;
    case VerlK3: rewardRows<VerlK3>(a, sums, counts, begin, end); break;
    case OpenrlhfK1: rewardRows<OpenrlhfK1>(a, sums, counts, begin, end); break;
    case OpenrlhfK2: rewardRows<OpenrlhfK2>(a, sums, counts, begin, end); break;
    case OpenrlhfK3: rewardRows<OpenrlhfK3>(a, sums, counts, begin, end); break;
    case TrlK1: rewardRows<TrlK1>(a, sums, counts, begin, end); break;
    default: rewardRows<TrlK3>(a, sums, counts, begin, end); break;
  }
}
#endif

void penalty(int code, const PenaltyArgs& a) {
  parallel_for(a.tokens, kMinTokensPerThread, [&a, code](size_t begin, size_t end) { penaltyChunk(code, a, begin, end); });
}

// Parallel over rows; each row summed in f64 (per-lane partials added in a fixed order: the JS
// reference sums in token order, which differs by f64 rounding only), then the row means combined
// in row order as inRewardKlJs / batchMeanKl.
double reward(int code, const RewardArgs& a) {
  std::vector<double> sums(a.rows), counts(a.rows);
  const size_t tokens = a.offsets[a.rows];
  const size_t avg = std::max<size_t>(1, tokens / std::max<size_t>(1, a.rows));
  parallel_for(a.rows, std::max<size_t>(1, kMinTokensPerThread / avg), [&](size_t begin, size_t end) {
    rewardChunk(code, a, sums.data(), counts.data(), begin, end);
  });
  double total = 0;
  for (size_t i = 0; i < a.rows; i++) total += sums[i] / (counts[i] + 1e-8);
  return total / static_cast<double>(a.rows);
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
  return a.queue([p, code](Outputs&) { penalty(code, p); });
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
  return a.queue([p, code](Outputs& r) { r.emplace_back("meanKl", reward(code, p)); });
}

}  // namespace

REWARDKIT_OP("klPenalty", KlPenalty);
REWARDKIT_OP("inRewardKl", InRewardKl);

}  // namespace rewardkit
