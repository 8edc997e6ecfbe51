// GRPO outcome advantages: see grpo.h. Every step mirrors lib/advantage/grpo.ref.ts; the comments
// name the JS line each one matches. Never build with -ffast-math: the exact rounding is the point.
#include "grpo.h"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/parallel.h"

namespace rewardkit {
namespace {

// Elements per thread below which splitting is not worth a thread start (~20-50 us).
constexpr size_t kMinTokensPerThread = size_t{1} << 16;

// Built twice (AVX2 and baseline x86-64), picked at load time: AVX2 widens the u8 → f32 convert
// and the f32 → f64 row sums.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define REWARDKIT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define REWARDKIT_CLONES
#endif

// scoreAllowed(): finite (verl) or finite-or-NaN (TRL: NaN = missing reward).
inline bool scoreAllowed(bool trl, double s) { return trl ? !std::isinf(s) : std::isfinite(s); }

// `let sum = 0; for (...) sum += p.scores[t]` in f64, with four interleaved accumulators: one chain
// of dependent f64 adds is latency-bound (4 cycles each), four run at memory speed. The f64 sum of
// f32 values differs from the JS token-order sum only far below f32 precision, so the f32-rounded
// row score is the same (the tests compare within 1e-5 relative regardless).
REWARDKIT_CLONES double sumAll(const float* __restrict s, size_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    a0 += static_cast<double>(s[k]);
    a1 += static_cast<double>(s[k + 1]);
    a2 += static_cast<double>(s[k + 2]);
    a3 += static_cast<double>(s[k + 3]);
  }
  for (; k < n; k++) a0 += static_cast<double>(s[k]);
  return (a0 + a1) + (a2 + a3);
}
template <typename M>
inline double sumMaskedTokens(const float* __restrict s, const M* __restrict m, size_t n) {
  double sum = 0;
  for (size_t k = 0; k < n; k++)
    if (m[k] != 0) sum += static_cast<double>(s[k]);  // `p.mask[t] !== 0`: NaN counts, ±0 does not
  return sum;
}

// Padded broadcast of one row segment: `tokenAdvantages[t] = m === 0 ? 0 : a * m`. The JS product
// of two f32 values in f64 is exact, so rounding it to f32 equals the f32 multiply. The product is
// computed for every token and masked with integer bit operations: +0 where m is ±0 (also when a is
// negative, NaN or infinite, as in the JS), the product elsewhere (a NaN mask value counts as
// nonzero, as `NaN === 0` is false). A `? :` select here is not vectorised by GCC under its default
// -ftrapping-math; this form is (SSE2 at -O3), and runs at memory speed.
inline uint32_t bitsOf(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
REWARDKIT_CLONES void broadcastU8(float* __restrict out, const uint8_t* __restrict m, size_t n, float a) {
  for (size_t k = 0; k < n; k++) {
    const uint32_t bits = bitsOf(a * static_cast<float>(m[k])) & -static_cast<uint32_t>(m[k] != 0);
    std::memcpy(out + k, &bits, sizeof bits);
  }
}
REWARDKIT_CLONES void broadcastF32(float* __restrict out, const float* __restrict m, size_t n, float a) {
  for (size_t k = 0; k < n; k++) {
    const float mk = m[k];
    const uint32_t bits = bitsOf(a * mk) & -static_cast<uint32_t>((bitsOf(mk) & 0x7FFFFFFFu) != 0);
    std::memcpy(out + k, &bits, sizeof bits);
  }
}

// rowScores(): s_i, or the f32-rounded sum of the row's token scores. Parallel over rows.
void rowScores(const GrpoArgs& p, std::vector<double>& s) {
  const size_t B = p.rows;
  if (!p.tokenScores) {
    for (size_t i = 0; i < B; i++) s[i] = static_cast<double>(p.scores[i]);
    return;
  }
  const size_t avg = std::max<size_t>(1, p.tokens / std::max<size_t>(1, B));
  const size_t minRows = std::max<size_t>(1, kMinTokensPerThread / avg);
  parallel_for(B, minRows, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) {
      const size_t start = p.offsets ? p.offsets[i] : i * p.cols;
      const size_t stop = p.offsets ? p.offsets[i + 1] : start + p.cols;
      const size_t n = stop - start;
      double sum;
      // `!p.sumMasked || !p.mask || p.mask[t] !== 0`
      if (p.sumMasked && p.maskKind == MaskKind::U8) sum = sumMaskedTokens(p.scores + start, p.maskU8 + start, n);
      else if (p.sumMasked && p.maskKind == MaskKind::F32) sum = sumMaskedTokens(p.scores + start, p.maskF32 + start, n);
      else sum = sumAll(p.scores + start, n);
      s[i] = static_cast<double>(static_cast<float>(sum));  // Math.fround(sum)
    }
  });
}

struct Stats {
  double n, mean, std;
};

}  // namespace

GrpoStatus grpo_advantages(const GrpoArgs& p) {
  const size_t B = p.rows, G = p.numGroups;
  const bool trl = p.trl;
  GrpoStatus status;

  std::vector<double> s(B);
  rowScores(p, s);
  if (p.tokenScores) {
    for (size_t i = 0; i < B; i++) {
      if (!scoreAllowed(trl, s[i])) {
        status.badRow = static_cast<int64_t>(i);
        status.badValue = s[i];
        break;
      }
    }
  }

  // stats() for every group at once. Each group's members are visited in row order, exactly as the
  // JS loops over members[g] (built by pushing rows in order): the same additions in the same order.
  // A run of consecutive rows of one group (the usual layout) accumulates in registers and is stored
  // once: `sum[g] += v` row after row would chain every add through a store and a reload.
  std::vector<double> count(G, 0.0), sum(G, 0.0), mean(G), ss(G, 0.0), stdev(G);
  for (size_t i = 0; i < B;) {
    const uint32_t g = p.groupIds[i];
    double n = count[g], acc = sum[g];
    for (; i < B && p.groupIds[i] == g; i++) {
      const double v = s[i];
      if (trl && std::isnan(v)) continue;
      n += 1;
      acc += v;
    }
    count[g] = n;
    sum[g] = acc;
  }
  for (size_t g = 0; g < G; g++) mean[g] = sum[g] / count[g];  // NaN when n = 0
  for (size_t i = 0; i < B;) {
    const uint32_t g = p.groupIds[i];
    const double m = mean[g];
    double acc = ss[g];
    for (; i < B && p.groupIds[i] == g; i++) {
      const double v = s[i];
      if (trl && std::isnan(v)) continue;
      const double d = v - m;
      acc += d * d;  // `(values[i] - mean) ** 2`: V8's pow(x, 2) is x*x
    }
    ss[g] = acc;
  }
  for (size_t g = 0; g < G; g++) {
    const double st = std::sqrt(ss[g] / (count[g] - 1));  // n = 1 → NaN
    // verl: a group of one gets mean 0, std 1; TRL keeps NaN and zeroes the result.
    if (!trl && count[g] == 1) {
      mean[g] = 0;
      stdev[g] = 1;
    } else {
      stdev[g] = st;
    }
  }

  double batchStd = NAN;
  if (p.scale == GrpoScale::Batch) {
    double n = 0, bsum = 0;
    for (size_t i = 0; i < B; i++) {
      if (trl && std::isnan(s[i])) continue;
      n += 1;
      bsum += s[i];
    }
    const double bmean = bsum / n;
    double bss = 0;
    for (size_t i = 0; i < B; i++) {
      if (trl && std::isnan(s[i])) continue;
      const double d = s[i] - bmean;
      bss += d * d;
    }
    const double st = std::sqrt(bss / (n - 1));
    batchStd = !trl && n == 1 ? 1 : st;
  }

  for (size_t i = 0; i < B; i++) {
    const uint32_t g = p.groupIds[i];
    const double centred = s[i] - mean[g];
    double a = p.scale == GrpoScale::None
                   ? centred
                   : centred / ((p.scale == GrpoScale::Batch ? batchStd : stdev[g]) + p.epsilon);
    if (trl && std::isnan(a)) a = 0;  // TRL: NaN advantages (missing rewards, groups of one) → 0
    p.outRows[i] = static_cast<float>(a);
  }

  // Broadcast, parallel over tokens; each chunk walks the rows it overlaps.
  const float* rowAdv = p.outRows;
  float* out = p.outTokens;
  if (p.offsets) {
    const uint32_t* off = p.offsets;
    const size_t first = off[0];  // tokens before the first row (none when offsets[0] = 0) are 0
    if (first > 0) std::memset(out, 0, first * sizeof(float));
    parallel_for(p.tokens - first, kMinTokensPerThread, [&](size_t begin, size_t end) {
      begin += first;
      end += first;
      // The row holding token `begin`: the last i with offsets[i] <= begin (skips empty rows).
      size_t row = static_cast<size_t>(std::upper_bound(off, off + B + 1, static_cast<uint32_t>(begin)) - off) - 1;
      for (size_t t = begin; t < end; row++) {
        const size_t stop = std::min<size_t>(end, off[row + 1]);
        std::fill(out + t, out + stop, rowAdv[row]);  // `tokenAdvantages.fill(a, ...)`
        t = stop;
      }
    });
  } else {
    const size_t T = p.cols;
    parallel_for(p.tokens, kMinTokensPerThread, [&](size_t begin, size_t end) {
      size_t row = begin / T;
      for (size_t t = begin; t < end; row++) {
        const size_t stop = std::min(end, (row + 1) * T);
        if (p.maskKind == MaskKind::U8) broadcastU8(out + t, p.maskU8 + t, stop - t, rowAdv[row]);
        else broadcastF32(out + t, p.maskF32 + t, stop - t, rowAdv[row]);
        t = stop;
      }
    });
  }
  return status;
}

}  // namespace rewardkit
