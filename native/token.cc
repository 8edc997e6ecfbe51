// Token-level estimators (lib/advantage/token.ts) and the DAPO overlong penalty (overlong.ts): a
// line-by-line mirror of token.ref.ts / overlong.ref.ts. Rows are scanned backwards in double,
// parallel over rows; returns and pre-whitening advantages are stored as float and whitened from
// those floats (masked.h). Untrained tokens are handled with selects, never `x·m`.
//
// Speed: each step of a backward scan waits on the previous one (a mul and an add in double), so
// verl's GAE and REINFORCE++ are blocked scans (4 tokens per step of the chain, below) and the
// others scan two rows interleaved (two independent chains); rows go last first with software
// prefetch; each row's masked moments are taken right after its scan while it is still in cache, so
// the whitening needs one more pass over memory (the apply) instead of three.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "masked.h"

namespace rewardkit {
namespace {

enum Estimator { kReinforce = 0, kGaeVerl = 1, kGaeOpenrlhf = 2, kRemax = 3 };

struct TokenArgs {
  int estimator;
  size_t rows, tokens;
  const uint32_t* offsets;
  const uint8_t* mask;  // null: every token trained
  const float* rewards;
  const float* values;     // GAE
  const float* baselines;  // ReMax
  double gamma, lambda;
  float* adv;
  float* ret;
};

// One row's backward-scan state per estimator: step(c, t) handles token t (called for t = end−1 …
// start). The pointers live once in a Ctx shared by the interleaved lanes (so they stay in
// registers); Masked (whether a mask is given) is a template argument, so the loops carry no null test.
struct Ctx {
  const float* __restrict R;
  const float* __restrict V;
  const uint8_t* __restrict m;
  float* __restrict adv;
  float* __restrict ret;
  const float* baselines;
  double g, gl;
  explicit Ctx(const TokenArgs& a)
      : R(a.rewards), V(a.values), m(a.mask), adv(a.adv), ret(a.ret), baselines(a.baselines), g(a.gamma), gl(a.gamma * a.lambda) {}
  // Software prefetch of token t's lines, kAhead tokens below the scan (rows are walked downwards, last
  // row first, across 4 KiB pages that the hardware prefetcher does not cross): measured −8% CPU on
  // the scalar scans, and the blocked REINFORCE++ scan needs it to gain.
  void prefetch(size_t t) const {
#if defined(__GNUC__)
    __builtin_prefetch(R + t);
    if (V) __builtin_prefetch(V + t);
    if (m) __builtin_prefetch(m + t);
    __builtin_prefetch(adv + t, 1);
    __builtin_prefetch(ret + t, 1);
#else
    (void)t;
#endif
  }
};

template <bool Masked>
struct Reinforce {
  double run = 0;
  Reinforce(const Ctx&, size_t) {}
  void step(const Ctx& c, size_t t) {
    run = c.R[t] + c.g * run;
    c.ret[t] = static_cast<float>(run);
    if (Masked && !c.m[t]) run = 0;  // reset after storing
  }
};

template <bool Masked>
struct GaeVerl {
  double nextv = 0, last = 0;
  GaeVerl(const Ctx&, size_t) {}
  void step(const Ctx& c, size_t t) {
    const double v = c.V[t];
    const double next = (c.R[t] + c.g * nextv - v) + c.gl * last;
    const bool on = !Masked || c.m[t];
    nextv = on ? v : nextv;
    last = on ? next : last;
    const float a = static_cast<float>(last);
    c.adv[t] = a;
    c.ret[t] = a + c.V[t];  // f32 + f32, as verl adds the tensors
  }
};

template <bool Masked>
struct GaeOpenrlhf {
  double last = 0, nextv = 0;
  GaeOpenrlhf(const Ctx&, size_t) {}
  void step(const Ctx& c, size_t t) {
    const bool trained = !Masked || c.m[t];
    const float v = trained ? c.V[t] : 0.0f, r = trained ? c.R[t] : 0.0f;
    last = r + c.g * nextv - v + c.gl * last;
    const float a = static_cast<float>(last);
    c.adv[t] = a;
    c.ret[t] = a + v;
    nextv = v;
  }
};

template <bool Masked>
struct Remax {
  const double b;
  double run = 0;
  Remax(const Ctx& c, size_t row) : b(c.baselines[row]) {}
  void step(const Ctx& c, size_t t) {
    const bool trained = !Masked || c.m[t];
    if (trained) run += c.R[t];
    const float r = static_cast<float>(run);
    c.ret[t] = r;
    c.adv[t] = trained ? static_cast<float>(r - b) : r;
  }
};

constexpr size_t kAhead = 512;  // tokens prefetched ahead of the scan

// Rows [i, i + 2) scanned together, aligned on their ends: the two chains overlap in the core.
template <typename Lane>
void scanTwo(const Ctx& c, const uint32_t* offsets, size_t i) {
  Lane l0(c, i), l1(c, i + 1);
  const uint32_t* o = offsets + i;
  const size_t e0 = o[1], e1 = o[2];
  const size_t common = std::min(e0 - o[0], e1 - o[1]);
  for (size_t j = 1; j <= common; j++) {
    if ((j & 15) == 0) {
      if (e0 - j >= kAhead) c.prefetch(e0 - j - kAhead);
      if (e1 - j >= kAhead) c.prefetch(e1 - j - kAhead);
    }
    l0.step(c, e0 - j);
    l1.step(c, e1 - j);
  }
  for (size_t t = e0 - common; t-- > o[0];) l0.step(c, t);
  for (size_t t = e1 - common; t-- > o[1];) l1.step(c, t);
}

template <typename Lane>
void scanRows(const TokenArgs& a, size_t r0, size_t r1, const float* whitenSource, Moments* moments) {
  const Ctx c(a);
  // Pairs of rows from the last down: with each row scanned backwards, memory is walked downwards.
  for (size_t hi = r1; hi > r0;) {
    const size_t n = std::min<size_t>(2, hi - r0), i = hi - n;
    hi = i;
    if (n == 2) {
      scanTwo<Lane>(c, a.offsets, i);
    } else {
      for (size_t k = i; k < i + n; k++) {
        Lane lane(c, k);
        for (size_t t = a.offsets[k + 1]; t-- > a.offsets[k];) lane.step(c, t);
      }
    }
    if (moments) row_moments(whitenSource, a.mask, a.offsets, i, i + n, moments);  // rows still in cache
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// REINFORCE++ as a blocked scan: the backward recurrence carry_t = a_t·carry_{t+1} + b_t (a = γ,
// b = R on trained tokens; a = b = 0 elsewhere, the reset, by selects: NaN/Inf on padding never
// enters) is taken 4 tokens at a time: each token's carry as an affine map (A, B) of the carry
// entering the block, composed in two log steps over the lanes, so one scalar mul + add per 4 tokens
// is on the sequential chain; ret_t = R_t + γ·carry_{t+1} as the scalar step forms it. The sums are
// reassociated: docs/token-estimators.md bounds the difference (far below the f32 outputs' ulp).
// GAE (verl) the same way: δ for the 4 tokens vectorised (the next-value carry by a select scan over
// the lanes), then the same composition of last_t = M ? δ + γλ·last : last. Blocks whose mask bytes
// are all set or all clear (most of them in real batches: responses are contiguous) skip the selects
// and shuffles; the general path alone measured slower than two interleaved scalar rows.
typedef int64_t L4 __attribute__((vector_size(32)));
REWARDKIT_INLINE L4 onMask(const uint8_t* m) { return L4{m[0], m[1], m[2], m[3]} != 0; }
REWARDKIT_INLINE D4 down1(D4 x, double f) { return __builtin_shuffle(x, splat(f), L4{1, 2, 3, 4}); }
REWARDKIT_INLINE D4 down2(D4 x, double f) { return __builtin_shuffle(x, splat(f), L4{2, 3, 4, 5}); }
// (A, B)[k] = composition of the maps of lanes k..3 (identity beyond lane 3).
REWARDKIT_INLINE void compose(D4& A, D4& B) {
  B = A * down1(B, 0.0) + B;
  A = A * down1(A, 1.0);
  B = A * down2(B, 0.0) + B;
  A = A * down2(A, 1.0);
}

// x86-64-v4 clone: AVX-512VL two-source permutes and k-mask blends are one uop each (measured ~15%
// faster than the AVX2 clone on this VM).
#define REWARDKIT_SCAN_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
/** Whether every byte of m[0, 4) is nonzero (allOn) or zero (allOff). */
REWARDKIT_INLINE bool allOn(const uint8_t* m) {
  uint32_t x;
  std::memcpy(&x, m, 4);
  return ((x - 0x01010101u) & ~x & 0x80808080u) == 0;
}
REWARDKIT_INLINE bool allOff(const uint8_t* m) {
  uint32_t x;
  std::memcpy(&x, m, 4);
  return x == 0;
}
REWARDKIT_INLINE L4 down1(L4 x) { return __builtin_shuffle(x, L4{-1, -1, -1, -1}, L4{1, 2, 3, 4}); }
REWARDKIT_INLINE L4 down2(L4 x) { return __builtin_shuffle(x, L4{-1, -1, -1, -1}, L4{2, 3, 4, 5}); }

template <bool Masked>
REWARDKIT_SCAN_CLONES void reinforceRow(const Ctx& c, size_t s, size_t e) {
  Reinforce<Masked> lane(c, 0);  // lane.run: the carry after the reset
  const D4 gv = splat(c.g), zero = splat(0.0);
  // The all-trained block's maps after each compose step (the same products the general path forms).
  const D4 A1 = gv * down1(gv, 1.0), A2 = A1 * down2(A1, 1.0);
  size_t t = e;
  for (; t - s >= 4;) {
    t -= 4;
    if ((t & 15) == 0 && t >= kAhead) c.prefetch(t - kAhead);
    const D4 R = toD4(loadF4(c.R + t));
    D4 A, B;
    if (!Masked || allOn(c.m + t)) {
      const D4 B1 = gv * down1(R, 0.0) + R;
      A = A2;
      B = A1 * down2(B1, 0.0) + B1;
    } else if (allOff(c.m + t)) {
      A = zero;
      B = zero;
    } else {
      const L4 on = onMask(c.m + t);
      A = on ? gv : zero;
      B = on ? R : zero;
      compose(A, B);
    }
    const D4 carry = A * splat(lane.run) + B;  // the carry after token t + k (0 where reset)
    storeF4(c.ret + t, toF4(R + gv * down1(carry, lane.run)));
    lane.run = A[0] * lane.run + B[0];
  }
  while (t-- > s) lane.step(c, t);
}

template <bool Masked>
REWARDKIT_SCAN_CLONES void gaeVerlRow(const Ctx& c, size_t s, size_t e) {
  GaeVerl<Masked> lane(c, 0);
  const D4 gv = splat(c.g), glv = splat(c.gl), one = splat(1.0), zero = splat(0.0);
  // The all-trained block's maps after each compose step (the same products the general path forms).
  const D4 A1 = glv * down1(glv, 1.0), A2 = A1 * down2(A1, 1.0);
  size_t t = e;
  for (; t - s >= 4;) {
    t -= 4;
    if ((t & 15) == 0 && t >= kAhead) c.prefetch(t - kAhead);
    const F4 vf = loadF4(c.V + t);
    if (Masked && allOff(c.m + t)) {  // nothing changes: adv = last everywhere
      const F4 adv = toF4(splat(lane.last));
      storeF4(c.adv + t, adv);
      storeF4(c.ret + t, adv + vf);
      continue;
    }
    const D4 R = toD4(loadF4(c.R + t)), V = toD4(vf);
    D4 A, B, val;
    if (!Masked || allOn(c.m + t)) {
      const D4 delta = (R + gv * down1(V, lane.nextv)) - V;
      B = A1 * down2(glv * down1(delta, 0.0) + delta, 0.0) + (glv * down1(delta, 0.0) + delta);
      A = A2;
      val = V;
    } else {
      const L4 on = onMask(c.m + t);
      // val[k] = nextv after token t + k: the first trained V at or after it, else the carry.
      val = on ? V : down1(V, lane.nextv);
      const L4 has = on | down1(on), has2 = has | down2(has);
      val = has ? val : down2(val, lane.nextv);
      val = has2 ? val : splat(lane.nextv);  // lane 0 when none of 0..3 is trained
      const D4 delta = (R + gv * down1(val, lane.nextv)) - V;
      A = on ? glv : one;
      B = on ? delta : zero;
      compose(A, B);
    }
    const F4 adv = toF4(A * splat(lane.last) + B);
    storeF4(c.adv + t, adv);
    storeF4(c.ret + t, adv + vf);
    lane.last = A[0] * lane.last + B[0];
    lane.nextv = val[0];
  }
  while (t-- > s) lane.step(c, t);
}

template <typename Row>
void scanRowsVec(const TokenArgs& a, size_t r0, size_t r1, const float* whitenSource, Moments* moments, Row row) {
  const Ctx c(a);
  for (size_t i = r1; i-- > r0;) {  // from the last row down: memory is walked downwards
    row(c, a.offsets[i], a.offsets[i + 1]);
    if (moments) row_moments(whitenSource, a.mask, a.offsets, i, i + 1, moments);  // row still in cache
  }
}
#define REWARDKIT_TOKEN_VEC 1
#endif

double tokenAdvantages(const TokenArgs& a) {
  const size_t avg = std::max<size_t>(1, a.tokens / a.rows);
  const bool whiten = a.estimator != kRemax;
  // verl whitens the returns (REINFORCE++, then ·M) or the advantages (GAE); OpenRLHF the advantages.
  const float* src = a.estimator == kReinforce ? a.ret : a.adv;
  std::vector<Moments> rows(whiten ? a.rows : 0);
  Moments* moments = whiten ? rows.data() : nullptr;
  parallel_for(a.rows, std::max<size_t>(4, (size_t{1} << 15) / avg), [&](size_t r0, size_t r1) {
    const bool m = a.mask != nullptr;
    switch (a.estimator) {
#ifdef REWARDKIT_TOKEN_VEC
      case kReinforce: m ? scanRowsVec(a, r0, r1, src, moments, reinforceRow<true>) : scanRowsVec(a, r0, r1, src, moments, reinforceRow<false>); break;
#else
      case kReinforce: m ? scanRows<Reinforce<true>>(a, r0, r1, src, moments) : scanRows<Reinforce<false>>(a, r0, r1, src, moments); break;
#endif
#ifdef REWARDKIT_TOKEN_VEC
      case kGaeVerl: m ? scanRowsVec(a, r0, r1, src, moments, gaeVerlRow<true>) : scanRowsVec(a, r0, r1, src, moments, gaeVerlRow<false>); break;
#else
      case kGaeVerl: m ? scanRows<GaeVerl<true>>(a, r0, r1, src, moments) : scanRows<GaeVerl<false>>(a, r0, r1, src, moments); break;
#endif
      case kGaeOpenrlhf: m ? scanRows<GaeOpenrlhf<true>>(a, r0, r1, src, moments) : scanRows<GaeOpenrlhf<false>>(a, r0, r1, src, moments); break;
      default: m ? scanRows<Remax<true>>(a, r0, r1, src, moments) : scanRows<Remax<false>>(a, r0, r1, src, moments); break;
    }
  });
  if (!whiten) return 0;
  Moments mm;
  for (const Moments& r : rows) mm = combine(mm, r);  // row order: thread-count independent
  if (a.estimator == kReinforce || a.estimator == kGaeVerl) {
    // verl masked_whiten (unbiased): mean = Σ/(Σm + 1e-8 in f32) = Σ/Σm for Σm >= 2.
    if (mm.count <= 1) return mm.count;  // the caller raises (verl does)
    const double mean = mm.sum / verlDenominator(mm.count);
    const double var = squaresAbout(mm, mean) / mm.count * (mm.count / (mm.count - 1));
    masked_apply(a.adv, src, a.mask, a.tokens, mean, 1.0 / std::sqrt(var + 1e-8), 0.0, a.estimator == kReinforce);
    return mm.count;
  }
  // OpenRLHF: mean = Σ/ΣM, biased variance, rsqrt(max(var, 1e-8)).
  if (mm.count < 1) return mm.count;
  const double mean = mm.sum / mm.count;
  masked_apply(a.adv, a.adv, a.mask, a.tokens, mean, 1.0 / std::sqrt(std::max(squaresAbout(mm, mean) / mm.count, 1e-8)), 0.0, false);
  return mm.count;
}

Napi::Value TokenAdvantages(const Napi::CallbackInfo& info) {
  OpArgs o(info, "tokenAdvantages");
  TokenArgs a{};
  a.estimator = o.choice("estimator", 4);
  a.rows = o.size("rows");
  a.tokens = o.size("tokens");
  if (a.rows < 1) o.range("expected rows >= 1");
  a.offsets = o.offsets("offsets", a.rows, a.tokens);
  a.mask = o.optional<uint8_t>("mask", a.tokens);
  a.rewards = o.array<float>("rewards", a.tokens);
  const bool gae = a.estimator == kGaeVerl || a.estimator == kGaeOpenrlhf;
  a.values = gae ? o.array<float>("values", a.tokens) : nullptr;
  a.baselines = a.estimator == kRemax ? o.array<float>("baselines", a.rows) : nullptr;
  a.gamma = o.number("gamma");
  a.lambda = o.number("lambda");
  a.adv = o.array<float>("outAdvantages", a.tokens);
  a.ret = o.array<float>("outReturns", a.tokens);
  return o.queue([a](Outputs& r) { r.emplace_back("count", tokenAdvantages(a)); });
}

// overlongOf() in overlong.ref.ts.
double overlongOf(double len, bool paper, double maxLength, double buffer, double factor) {
  const double expected = maxLength - buffer;
  if (!paper) return std::min((-(len - expected) / buffer) * factor, 0.0);
  if (len <= expected) return 0;
  if (len <= maxLength) return ((expected - len) / buffer) * factor;
  return -factor;
}

Napi::Value OverlongPenalty(const Napi::CallbackInfo& info) {
  OpArgs o(info, "overlongPenalty");
  const size_t rows = o.size("rows");
  const size_t tokens = o.size("tokens");
  if (rows < 1) o.range("expected rows >= 1");
  const double* lengths = o.optional<double>("lengths", rows);
  const uint32_t* offsets = lengths ? nullptr : o.offsets("offsets", rows, tokens);
  const uint8_t* mask = lengths ? nullptr : o.optional<uint8_t>("mask", tokens);
  const bool paper = o.flag("paper");
  const double maxLength = o.number("maxLength"), buffer = o.number("buffer"), factor = o.number("factor");
  const float* scores = o.optional<float>("scores", rows);
  float* penalties = o.array<float>("outPenalties", rows);
  float* outScores = scores ? o.array<float>("outScores", rows) : nullptr;
  return o.queue([=](Outputs&) {
    parallel_for(rows, 1024, [&](size_t r0, size_t r1) {
      for (size_t i = r0; i < r1; i++) {
        double len;
        if (lengths) {
          len = lengths[i];
        } else if (!mask) {
          len = offsets[i + 1] - offsets[i];
        } else {
          size_t n = 0;
          for (size_t t = offsets[i]; t < offsets[i + 1]; t++) n += mask[t] != 0;
          len = static_cast<double>(n);
        }
        const float pen = static_cast<float>(overlongOf(len, paper, maxLength, buffer, factor));
        penalties[i] = pen;
        if (outScores) outScores[i] = scores[i] + pen;
      }
    });
  });
}

}  // namespace

REWARDKIT_OP("tokenAdvantages", TokenAdvantages);
REWARDKIT_OP("overlongPenalty", OverlongPenalty);

}  // namespace rewardkit
