// Bradley–Terry probabilities / losses / accuracy sums (lib/eval/preference.ref.ts). f32 inputs, f64
// arithmetic, f32 per-pair outputs; the sums are per-lane f64 partial sums over chunks of a fixed
// size, combined in chunk order, so they never depend on the thread count. The pair kernel is
// bradley_terry.inc: 8 lanes of f64 on AVX-512, 4 on AVX2 (both with FMA), 2 on baseline x86-64.
// Never build with -ffast-math: the kernel relies on IEEE NaN propagation and the 1.5·2^52 rounding.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

#if defined(__x86_64__) && !defined(__clang__)
#include <immintrin.h>
#endif

namespace rewardkit {
namespace {

struct BtArgs {
  size_t n;
  const float *chosen, *rejected, *margin;
  double marginValue, eps;
  float *prob, *loss;
};

struct BtSums { double loss = 0, square = 0, wins = 0, ties = 0; };

#if REWARDKIT_VECTOR
// Baseline (SSE2 on x86-64, NEON on arm64): 2 lanes, the native width, where 4-lane vectors
// made GCC 12 split every select into scalar compares (1.6× the time).
namespace lanes2 {
typedef double V __attribute__((vector_size(16)));
typedef float VF __attribute__((vector_size(8)));
RK_INLINE V widenLanes(VF x) { return __builtin_convertvector(x, V); }
RK_INLINE V mulAdd(V a, V b, V c) { return a * b + c; }
#include "bradley_terry.inc"
}  // namespace lanes2
#if defined(__x86_64__) && !defined(__clang__)
// The project builds with -ffp-contract=off (other kernels must round like the JS references), so the
// FMA kernels call vfmadd explicitly: 24% less time than separate multiplies and adds on AVX-512.
// Widening by the instruction too: GCC 12 compiles __builtin_convertvector of f32 to f64 lanes as two
// halves (extract, two conversions, insert).
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
namespace lanes4fma {
typedef v4d V;
typedef v4f VF;
RK_INLINE V widenLanes(VF x) { return (V)_mm256_cvtps_pd((__m128)x); }
RK_INLINE V mulAdd(V a, V b, V c) { return (V)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c); }
#include "bradley_terry.inc"
}  // namespace lanes4fma
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes8 {
typedef v8d V;
typedef v8f VF;
// The maskz form: _mm512_cvtps_pd's undefined source draws a -Wmaybe-uninitialized warning from
// GCC 12; an all-ones mask compiles to the plain instruction.
RK_INLINE V widenLanes(VF x) { return (V)_mm512_maskz_cvtps_pd(static_cast<__mmask8>(0xff), (__m256)x); }
RK_INLINE V mulAdd(V a, V b, V c) { return (V)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c); }
#include "bradley_terry.inc"
}  // namespace lanes8
#pragma GCC pop_options

// Picked at load time (function multiversioning, see vexp.h).
__attribute__((target("default"))) BtSums btChunk(const BtArgs& a, size_t begin, size_t end) {
  return lanes2::btRange(a, begin, end);
}
__attribute__((target("arch=x86-64-v3"))) BtSums btChunk(const BtArgs& a, size_t begin, size_t end) {
  return lanes4fma::btRange(a, begin, end);
}
__attribute__((target("arch=x86-64-v4"))) BtSums btChunk(const BtArgs& a, size_t begin, size_t end) {
  return lanes8::btRange(a, begin, end);
}
#else
BtSums btChunk(const BtArgs& a, size_t begin, size_t end) { return lanes2::btRange(a, begin, end); }
#endif
#else
// Portable fallback (no vector extensions): btPair() of the reference with libm.
BtSums btChunk(const BtArgs& a, size_t begin, size_t end) {
  BtSums s;
  for (size_t i = begin; i < end; i++) {
    const double c = a.chosen[i], r = a.rejected[i];
    const double m = a.margin ? static_cast<double>(a.margin[i]) : a.marginValue;
    const double d = c - r, z = d - m;
    const double ed = std::exp(-std::fabs(d));
    const double ez = m == 0 ? ed : std::exp(-std::fabs(z));
    const double L = std::log1p(ez);
    const double l = a.eps == 0 ? L - std::min(z, 0.0) : L - (1 - a.eps) * std::min(z, 0.0) - a.eps * std::min(-z, 0.0);
    a.prob[i] = static_cast<float>(d >= 0 ? 1 / (1 + ed) : ed / (1 + ed));
    a.loss[i] = static_cast<float>(l);
    s.loss += l;
    s.square += (c + r) * (c + r);
    if (c > r) s.wins += 1;
    else if (c == r) s.ties += 1;
  }
  return s;
}
#endif

// Chunks of a fixed size (a multiple of 8) so the sums do not depend on the thread count.
constexpr size_t kChunk = size_t{1} << 14;

Napi::Value BradleyTerry(const Napi::CallbackInfo& info) {
  OpArgs a(info, "bradleyTerry");
  BtArgs p{};
  p.n = a.size("pairs");
  if (p.n == 0) a.range("expected pairs >= 1");
  p.chosen = a.array<float>("chosen", p.n);
  p.rejected = a.array<float>("rejected", p.n);
  p.margin = a.optional<float>("margin", p.n);
  p.marginValue = a.number("marginValue");
  p.eps = a.number("labelSmoothing");
  p.prob = a.array<float>("probabilities", p.n);
  p.loss = a.array<float>("losses", p.n);
  return a.queue([p](Outputs& out) {
    const size_t chunks = (p.n + kChunk - 1) / kChunk;
    std::vector<BtSums> part(chunks);
    parallel_for(chunks, 1, [&](size_t b, size_t e) {
      for (size_t c = b; c < e; c++) part[c] = btChunk(p, c * kChunk, std::min(p.n, (c + 1) * kChunk));
    });
    BtSums s;
    for (const BtSums& x : part) { s.loss += x.loss; s.square += x.square; s.wins += x.wins; s.ties += x.ties; }
    out.emplace_back("loss", s.loss);
    out.emplace_back("square", s.square);
    out.emplace_back("wins", s.wins);
    out.emplace_back("ties", s.ties);
  });
}

}  // namespace

REWARDKIT_OP("bradleyTerry", BradleyTerry);

}  // namespace rewardkit
