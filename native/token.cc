// Token-level estimators (lib/advantage/token.ts) and the DAPO overlong penalty (overlong.ts): a
// line-by-line mirror of token.ref.ts / overlong.ref.ts. Rows are scanned backwards in double,
// parallel over rows; returns and pre-whitening advantages are stored as float and whitened from
// those floats (masked.h). Untrained tokens are handled with selects, never `x·m`.
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

inline bool on(const uint8_t* m, size_t t) { return m == nullptr || m[t] != 0; }

void scanRow(const TokenArgs& a, size_t i) {
  const float* R = a.rewards;
  const float* V = a.values;
  const uint8_t* m = a.mask;
  const double g = a.gamma, gl = a.gamma * a.lambda;
  const size_t t0 = a.offsets[i], t1 = a.offsets[i + 1];
  switch (a.estimator) {
    case kReinforce: {
      double run = 0;
      for (size_t t = t1; t-- > t0;) {
        run = R[t] + g * run;
        a.ret[t] = static_cast<float>(run);
        if (!on(m, t)) run = 0;  // reset after storing
      }
      break;
    }
    case kGaeVerl: {
      double nextv = 0, last = 0;
      for (size_t t = t1; t-- > t0;) {
        const double delta = R[t] + g * nextv - V[t];
        const double next = delta + gl * last;
        if (on(m, t)) {
          nextv = V[t];
          last = next;
        }
        const float adv = static_cast<float>(last);
        a.adv[t] = adv;
        a.ret[t] = adv + V[t];  // f32 + f32, as verl adds the tensors
      }
      break;
    }
    case kGaeOpenrlhf: {
      double last = 0, nextv = 0;
      for (size_t t = t1; t-- > t0;) {
        const bool trained = on(m, t);
        const float v = trained ? V[t] : 0.0f, r = trained ? R[t] : 0.0f;
        last = r + g * nextv - v + gl * last;
        const float adv = static_cast<float>(last);
        a.adv[t] = adv;
        a.ret[t] = adv + v;
        nextv = v;
      }
      break;
    }
    case kRemax: {
      double run = 0;
      const double b = a.baselines[i];
      for (size_t t = t1; t-- > t0;) {
        const bool trained = on(m, t);
        if (trained) run += R[t];
        const float ret = static_cast<float>(run);
        a.ret[t] = ret;
        a.adv[t] = trained ? static_cast<float>(ret - b) : ret;
      }
      break;
    }
  }
}

double tokenAdvantages(const TokenArgs& a) {
  const size_t avg = std::max<size_t>(1, a.tokens / a.rows);
  parallel_for(a.rows, std::max<size_t>(1, (size_t{1} << 15) / avg), [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; i++) scanRow(a, i);
  });
  if (a.estimator == kRemax) return 0;
  if (a.estimator == kReinforce || a.estimator == kGaeVerl) {
    // verl masked_whiten (unbiased), of the returns (REINFORCE++, then ·M) or the advantages (GAE).
    const float* src = a.estimator == kReinforce ? a.ret : a.adv;
    const MaskedMoments mm = masked_moments(src, a.mask, a.tokens, 1e-8);
    if (mm.count <= 1) return mm.count;  // the caller raises (verl does)
    const double var = mm.sq / mm.count * (mm.count / (mm.count - 1));  // count >= 2: Σm + 1e-8 is Σm in f32
    masked_apply(a.adv, src, a.mask, a.tokens, mm.mean, 1.0 / std::sqrt(var + 1e-8), 0.0, a.estimator == kReinforce);
    return mm.count;
  }
  // OpenRLHF: mean = Σ/ΣM, biased variance, rsqrt(max(var, 1e-8)).
  const MaskedMoments mm = masked_moments(a.adv, a.mask, a.tokens, 0.0);
  if (mm.count < 1) return mm.count;
  masked_apply(a.adv, a.adv, a.mask, a.tokens, mm.mean, 1.0 / std::sqrt(std::max(mm.sq / mm.count, 1e-8)), 0.0, false);
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
