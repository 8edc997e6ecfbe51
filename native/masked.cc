// The public masked ops (lib/advantage/masked.ts), a mirror of lib/advantage/masked.ref.ts, and the
// whole-batch kernels declared in masked.h: one pass over memory for the moments (see masked.h), one
// for the whitening. Never built with -ffast-math: the rounding is the point.
#include "masked.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"

namespace rewardkit {
namespace {

// Moments of each kSpan block of x[0, tokens) in [b0, b1) into out[b].
REWARDKIT_CLONES void blockMoments(const float* x, const uint8_t* m, size_t tokens, size_t b0, size_t b1, Moments* out) {
  for (size_t b = b0; b < b1; b++) {
    const size_t t0 = b * kSpan, n = tokens - t0 < kSpan ? tokens - t0 : kSpan;
    out[b] = m ? spanMoments(x + t0, m + t0, n) : spanMoments(x + t0, nullptr, n);
  }
}

// out[k] = f32((v[k] − mean)·scale + add), zeroed where m[k] = 0 when m is given. (Non-temporal
// stores for large outputs were tried: no faster here, so plain stores.)
REWARDKIT_INLINE float applyOne(float v, const uint8_t* m, double mean, double scale, double add) {
  const float f = static_cast<float>((static_cast<double>(v) - mean) * scale + add);
  return m ? selectTrained(f, *m) : f;
}

REWARDKIT_CLONES void applySpan(float* out, const float* v, const uint8_t* m, size_t n, double mean, double scale, double add) {
  const D4 mv = splat(mean), sv = splat(scale), av = splat(add);
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    F4 f = toF4((toD4(loadF4(v + k)) - mv) * sv + av);
    if (m) f = selectF4(f, laneMask(m + k));
    storeF4(out + k, f);
  }
  for (; k < n; k++) out[k] = applyOne(v[k], m ? m + k : nullptr, mean, scale, add);
}

}  // namespace

Moments masked_moments(const float* v, const uint8_t* mask, size_t tokens) {
  const size_t blocks = (tokens + kSpan - 1) / kSpan;
  std::vector<Moments> parts(blocks);
  parallel_for(blocks, 8, [&](size_t b0, size_t b1) { blockMoments(v, mask, tokens, b0, b1, parts.data()); });
  Moments r;
  for (const Moments& p : parts) r = combine(r, p);  // block order: thread-count independent
  return r;
}

REWARDKIT_CLONES void row_moments(const float* x, const uint8_t* mask, const uint32_t* offsets, size_t r0, size_t r1, Moments* out) {
  for (size_t i = r0; i < r1; i++) {
    const size_t t0 = offsets[i], n = offsets[i + 1] - t0;
    out[i] = mask ? rangeMoments(x + t0, mask + t0, n) : rangeMoments(x + t0, nullptr, n);
  }
}

void masked_apply(float* out, const float* v, const uint8_t* mask, size_t tokens, double mean, double scale, double add, bool zeroUntrained) {
  const uint8_t* m = zeroUntrained ? mask : nullptr;
  parallel_for(tokens, size_t{1} << 16, [=](size_t begin, size_t end) {
    applySpan(out + begin, v + begin, m ? m + begin : nullptr, end - begin, mean, scale, add);
  });
}

namespace {

enum Kind { kSum = 0, kMean = 1, kVar = 2, kWhiten = 3 };

struct MaskedArgs {
  int kind;
  bool perRow, unbiased, shiftMean;
  size_t rows, tokens;
  const uint32_t* offsets;
  const uint8_t* mask;
  const float* values;
  float* out;
};

struct MaskedStatus {
  double count = 0;
  int64_t badRow = -1;
  double badCount = 0;
};

// maskedRowStatsRef / maskedRowWhitenRef: one row at a time, parallel over rows.
MaskedStatus perRow(const MaskedArgs& a) {
  std::vector<Moments> mm(a.rows);
  std::vector<double> means(a.rows), scales(a.rows);
  const bool var = a.kind == kVar || a.kind == kWhiten;
  const size_t avg = std::max<size_t>(1, a.tokens / a.rows);
  parallel_for(a.rows, std::max<size_t>(1, (size_t{1} << 15) / avg), [&](size_t r0, size_t r1) {
    row_moments(a.values, a.mask, a.offsets, r0, r1, mm.data());
    for (size_t i = r0; i < r1; i++) {
      const double count = mm[i].count, mean = mm[i].sum / verlDenominator(count);
      means[i] = mean;
      if (!var) {
        a.out[i] = static_cast<float>(a.kind == kSum ? mm[i].sum : mean);
        continue;
      }
      double variance = squaresAbout(mm[i], mean) / verlDenominator(count);
      if (a.unbiased && count > 1) variance *= count / (count - 1);
      if (a.kind == kVar) a.out[i] = static_cast<float>(variance);
      scales[i] = 1.0 / std::sqrt(variance + 1e-8);
    }
  });
  MaskedStatus st;
  if (var && a.unbiased) {
    for (size_t i = 0; i < a.rows; i++) {
      if (mm[i].count <= 1) {
        st.badRow = static_cast<int64_t>(i);
        st.badCount = mm[i].count;
        return st;
      }
    }
  }
  if (a.kind == kWhiten) {
    parallel_for(a.rows, std::max<size_t>(1, (size_t{1} << 15) / avg), [&](size_t r0, size_t r1) {
      for (size_t i = r0; i < r1; i++) {
        const size_t t0 = a.offsets[i];
        applySpan(a.out + t0, a.values + t0, nullptr, a.offsets[i + 1] - t0, means[i], scales[i], a.shiftMean ? 0.0 : means[i]);
      }
    });
  }
  return st;
}

MaskedStatus wholeBatch(const MaskedArgs& a) {
  MaskedStatus st;
  if (a.kind == kSum || a.kind == kMean) {
    const Moments mm = masked_moments(a.values, a.mask, a.tokens);
    st.count = mm.count;
    a.out[0] = static_cast<float>(a.kind == kSum ? mm.sum : mm.sum / verlDenominator(mm.count));
    return st;
  }
  const Moments mm = masked_moments(a.values, a.mask, a.tokens);
  const double mean = mm.sum / verlDenominator(mm.count);
  st.count = mm.count;
  if (a.unbiased && mm.count <= 1) return st;  // the caller raises (verl does)
  double variance = squaresAbout(mm, mean) / verlDenominator(mm.count);
  if (a.unbiased) variance *= mm.count / (mm.count - 1);
  if (a.kind == kVar) {
    a.out[0] = static_cast<float>(variance);
    return st;
  }
  masked_apply(a.out, a.values, a.mask, a.tokens, mean, 1.0 / std::sqrt(variance + 1e-8), a.shiftMean ? 0.0 : mean, false);
  return st;
}

Napi::Value MaskedStats(const Napi::CallbackInfo& info) {
  OpArgs o(info, "maskedStats");
  MaskedArgs a{};
  a.kind = o.choice("kind", 4);
  a.perRow = o.flag("perRow");
  a.unbiased = o.flag("unbiased");
  a.shiftMean = o.flag("shiftMean");
  a.rows = o.size("rows");
  a.tokens = o.size("tokens");
  if (a.rows < 1) o.range("expected rows >= 1");
  a.offsets = o.offsets("offsets", a.rows, a.tokens);
  a.mask = o.optional<uint8_t>("mask", a.tokens);
  a.values = o.array<float>("values", a.tokens);
  a.out = o.array<float>("out", a.kind == kWhiten ? a.tokens : a.perRow ? a.rows : 1);
  return o.queue([a](Outputs& r) {
    const MaskedStatus st = a.perRow ? perRow(a) : wholeBatch(a);
    r.emplace_back("count", st.count);
    r.emplace_back("badRow", static_cast<double>(st.badRow));
    r.emplace_back("badCount", st.badCount);
  });
}

}  // namespace

REWARDKIT_OP("maskedStats", MaskedStats);

}  // namespace rewardkit
