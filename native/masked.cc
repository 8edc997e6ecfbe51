// The public masked ops (lib/advantage/masked.ts), a mirror of lib/advantage/masked.ref.ts, and the
// whole-batch kernels in masked.h. Never built with -ffast-math: the rounding is the point.
#include "masked.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"

namespace rewardkit {
namespace {

// maskDenominator() in masked.ref.ts: verl's Σm + 1e-8 held in f32 (exactly Σm for Σm >= 1).
inline double denominator(double count) { return static_cast<double>(static_cast<float>(count + 1e-8)); }

constexpr size_t kBlock = size_t{1} << 15;  // tokens per partial sum (fixed: thread-count independent)

inline float selectTrained(float v, uint8_t m) {
  // v where m != 0, +0 elsewhere, with integer bit operations (vectorises; NaN never enters a sum).
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= -static_cast<uint32_t>(m != 0);
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// Built twice (AVX2 and baseline x86-64), picked at load time: the lanes below vectorise.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define REWARDKIT_MASKED_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define REWARDKIT_MASKED_CLONES
#endif

// Σ x[k] (or Σ (x[k] − c)² when square) over trained k in [0, n), in double with 8 independent
// lanes. Branch-free so it vectorises: untrained values are zeroed by bits (never read as NaN) and
// their square term multiplied by 0 (it is finite: (0 − c)²).
template <bool Square>
REWARDKIT_MASKED_CLONES void blockSums(const float* __restrict x, const uint8_t* __restrict m, size_t n, double c, double& sum, double& count) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, k8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (int j = 0; j < 8; j++) {
      const double on = m ? static_cast<double>(m[k + j] != 0) : 1.0;
      const double v = static_cast<double>(m ? selectTrained(x[k + j], m[k + j]) : x[k + j]);
      if (Square) {
        const double d = v - c;
        s[j] += d * d * on;
      } else {
        s[j] += v;
      }
      k8[j] += on;
    }
  }
  double tail = 0, tailCount = 0;
  for (; k < n; k++) {
    if (m && !m[k]) continue;
    const double d = static_cast<double>(x[k]);
    tail += Square ? (d - c) * (d - c) : d;
    tailCount += 1;
  }
  sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
  count = ((k8[0] + k8[1]) + (k8[2] + k8[3])) + ((k8[4] + k8[5]) + (k8[6] + k8[7])) + tailCount;
}

template <bool Square>
void batchSums(const float* x, const uint8_t* m, size_t tokens, double c, double& sum, double& count) {
  const size_t blocks = (tokens + kBlock - 1) / kBlock;
  std::vector<double> sums(blocks), counts(blocks);
  parallel_for(blocks, 2, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
      const size_t t0 = b * kBlock, n = std::min(kBlock, tokens - t0);
      blockSums<Square>(x + t0, m ? m + t0 : nullptr, n, c, sums[b], counts[b]);
    }
  });
  sum = 0;
  count = 0;
  for (size_t b = 0; b < blocks; b++) {
    sum += sums[b];
    count += counts[b];
  }
}

}  // namespace

MaskedMoments masked_moments(const float* v, const uint8_t* mask, size_t tokens, double countEps) {
  MaskedMoments r;
  batchSums<false>(v, mask, tokens, 0.0, r.sum, r.count);
  r.mean = r.sum / (countEps > 0 ? denominator(r.count) : r.count);
  double unused;
  batchSums<true>(v, mask, tokens, r.mean, r.sq, unused);
  return r;
}

void masked_apply(float* out, const float* v, const uint8_t* mask, size_t tokens, double mean, double scale, double add, bool zeroUntrained) {
  parallel_for(tokens, size_t{1} << 16, [=](size_t begin, size_t end) {
    if (zeroUntrained && mask) {
      for (size_t t = begin; t < end; t++) {
        const float w = static_cast<float>((static_cast<double>(v[t]) - mean) * scale + add);
        out[t] = selectTrained(w, mask[t]);
      }
    } else {
      for (size_t t = begin; t < end; t++) out[t] = static_cast<float>((static_cast<double>(v[t]) - mean) * scale + add);
    }
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
  std::vector<double> means(a.rows), scales(a.rows), counts(a.rows);
  const bool var = a.kind == kVar || a.kind == kWhiten;
  parallel_for(a.rows, std::max<size_t>(1, (size_t{1} << 16) / std::max<size_t>(1, a.tokens / std::max<size_t>(1, a.rows))), [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; i++) {
      const size_t t0 = a.offsets[i], n = a.offsets[i + 1] - t0;
      const uint8_t* m = a.mask ? a.mask + t0 : nullptr;
      double sum, count;
      blockSums<false>(a.values + t0, m, n, 0.0, sum, count);
      const double mean = sum / denominator(count);
      counts[i] = count;
      means[i] = mean;
      if (!var) {
        a.out[i] = static_cast<float>(a.kind == kSum ? sum : mean);
        continue;
      }
      double sq, unused;
      blockSums<true>(a.values + t0, m, n, mean, sq, unused);
      double variance = sq / denominator(count);
      if (a.unbiased && count > 1) variance *= count / (count - 1);
      if (a.kind == kVar) a.out[i] = static_cast<float>(variance);
      scales[i] = 1.0 / std::sqrt(variance + 1e-8);
    }
  });
  MaskedStatus st;
  if (var && a.unbiased) {
    for (size_t i = 0; i < a.rows; i++) {
      if (counts[i] <= 1) {
        st.badRow = static_cast<int64_t>(i);
        st.badCount = counts[i];
        return st;
      }
    }
  }
  if (a.kind == kWhiten) {
    parallel_for(a.rows, 1, [&](size_t r0, size_t r1) {
      for (size_t i = r0; i < r1; i++) {
        const double add = a.shiftMean ? 0.0 : means[i];
        for (size_t t = a.offsets[i]; t < a.offsets[i + 1]; t++) {
          a.out[t] = static_cast<float>((static_cast<double>(a.values[t]) - means[i]) * scales[i] + add);
        }
      }
    });
  }
  return st;
}

MaskedStatus wholeBatch(const MaskedArgs& a) {
  MaskedStatus st;
  if (a.kind == kSum || a.kind == kMean) {
    double sum, count;
    batchSums<false>(a.values, a.mask, a.tokens, 0.0, sum, count);
    st.count = count;
    a.out[0] = static_cast<float>(a.kind == kSum ? sum : sum / denominator(count));
    return st;
  }
  const MaskedMoments mm = masked_moments(a.values, a.mask, a.tokens, 1e-8);
  st.count = mm.count;
  if (a.unbiased && mm.count <= 1) return st;  // the caller raises (verl does)
  double variance = mm.sq / denominator(mm.count);
  if (a.unbiased) variance *= mm.count / (mm.count - 1);
  if (a.kind == kVar) {
    a.out[0] = static_cast<float>(variance);
    return st;
  }
  masked_apply(a.out, a.values, a.mask, a.tokens, mm.mean, 1.0 / std::sqrt(variance + 1e-8), a.shiftMean ? 0.0 : mm.mean, false);
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
