// Reward-model ensembles (lib/scoring/ensemble.ref.ts): K members' scores [K, B] → one score per
// response. Rows run kLanes at a time (ensemble_lanes.inc), each lane with the reference's f64
// operations in its order, so results are bit-identical to it; rows split over threads.
// Never build with -ffast-math: NaN checks and the exact rounding are the point.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

namespace rewardkit {
namespace {

constexpr size_t kMinRowsPerThread = size_t{1} << 13;
constexpr size_t kMaxMembers = 64;  // MAX_MEMBERS in lib/scoring/ensemble.ts

enum Method { kMean, kMin, kMax, kMedian, kUwo, kMeanMinusStd };

struct EnsembleArgs {
  size_t K, B;
  const float* scores;
  int method;
  double c, lambda;
  int ddof;
  bool znorm;
  double zm[kMaxMembers], zd[kMaxMembers];  // per member: mean and zDivisor(std) when znorm
  float* out;
};

#if REWARDKIT_VECTOR
namespace lanes4 {
typedef v4d D;
#include "ensemble_lanes.inc"
}  // namespace lanes4
#if defined(__x86_64__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes8 {
typedef v8d D;
#include "ensemble_lanes.inc"
}  // namespace lanes8
#pragma GCC pop_options

// Picked at load time (function multiversioning, see common/vexp.h): 8 lanes on AVX-512, 4 on AVX2
// and baseline x86-64; the same bits either way.
__attribute__((target("default"))) void ensembleRows(const EnsembleArgs& p, size_t begin, size_t end) {
  lanes4::ensembleRowsAll(p, begin, end);
}
__attribute__((target("avx2"))) void ensembleRows(const EnsembleArgs& p, size_t begin, size_t end) {
  lanes4::ensembleRowsAll(p, begin, end);
}
__attribute__((target("arch=x86-64-v4"))) void ensembleRows(const EnsembleArgs& p, size_t begin, size_t end) {
  lanes8::ensembleRowsAll(p, begin, end);
}
#else
void ensembleRows(const EnsembleArgs& p, size_t begin, size_t end) { lanes4::ensembleRowsAll(p, begin, end); }
#endif
#else
namespace lanes1 {
typedef double D;
#include "ensemble_lanes.inc"
}  // namespace lanes1
void ensembleRows(const EnsembleArgs& p, size_t begin, size_t end) { lanes1::ensembleRowsAll(p, begin, end); }
#endif

// modelMoments() + zDivisor() of members [k0, k1): the reference's sequential f64 sums (so the
// z-scores have its bits), two members at a time so that two independent add chains overlap.
void memberMoments(const float* scores, size_t B, size_t k0, size_t k1, double* zm, double* zd) {
  const double n = static_cast<double>(B);
  const auto finish = [&](size_t k, double ss) {
    const double sd = std::sqrt(ss / n);
    zd[k] = sd == 0 ? 1 : sd;
  };
  size_t k = k0;
  for (; k + 2 <= k1; k += 2) {
    const float *a = scores + k * B, *b = a + B;
    double sa = 0, sb = 0;
    for (size_t i = 0; i < B; i++) { sa += a[i]; sb += b[i]; }
    const double ma = sa / n, mb = sb / n;
    double qa = 0, qb = 0;
    for (size_t i = 0; i < B; i++) {
      const double da = a[i] - ma, db = b[i] - mb;
      qa += da * da;
      qb += db * db;
    }
    zm[k] = ma;
    zm[k + 1] = mb;
    finish(k, qa);
    finish(k + 1, qb);
  }
  if (k < k1) {
    const float* a = scores + k * B;
    double sa = 0;
    for (size_t i = 0; i < B; i++) sa += a[i];
    const double ma = sa / n;
    double qa = 0;
    for (size_t i = 0; i < B; i++) { const double d = a[i] - ma; qa += d * d; }
    zm[k] = ma;
    finish(k, qa);
  }
}

void ensemble(EnsembleArgs& p) {
  if (p.znorm) {
    // Members in parallel: each is one sequential sum, as in the reference.
    parallel_for(p.K, 1, [&](size_t k0, size_t k1) { memberMoments(p.scores, p.B, k0, k1, p.zm, p.zd); });
  }
  parallel_for(p.B, kMinRowsPerThread, [&](size_t begin, size_t end) { ensembleRows(p, begin, end); });
}

Napi::Value AggregateEnsemble(const Napi::CallbackInfo& info) {
  OpArgs a(info, "aggregateEnsemble");
  EnsembleArgs p{};
  p.K = a.size("members", kMaxMembers);
  p.B = a.size("rows");
  if (p.K == 0 || p.B == 0) a.range("expected members >= 1 and rows >= 1");
  if (p.K * p.B > kMaxU32) a.range("expected members*rows < 2^32");
  p.scores = a.array<float>("scores", p.K * p.B);
  p.method = a.choice("method", 6);
  p.c = a.number("c");
  p.ddof = a.choice("ddof", 2);
  p.lambda = a.number("lambda");
  p.znorm = a.flag("zNormalize");
  p.out = a.array<float>("out", p.B);
  return a.queue([p](Outputs&) mutable { ensemble(p); });
}

}  // namespace

REWARDKIT_OP("aggregateEnsemble", AggregateEnsemble);

}  // namespace rewardkit
