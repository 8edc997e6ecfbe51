// Step-level rewards: PRM step aggregation and AReaL's Clip/Delta (lib/scoring/prm.ref.ts),
// potential-based shaping and Robo-Dopamine progress (lib/scoring/pbrs.ref.ts). Kernels in
// steps_lanes.inc; responses split over threads. Every result keeps the reference's bits (the same
// f64/f32 operations in the same order) except the log/exp methods of aggregateSteps, whose vector
// log and exp are within ~2 f64 ulp of libm's.
// Never build with -ffast-math: NaN checks and the exact rounding are the point.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

namespace rewardkit {
namespace {

constexpr size_t kMinRowsPerThread = size_t{1} << 13;

enum Agg { kAMin, kAMax, kProd, kGeo, kAMean, kLogit, kOdds, kLast };

struct AggregateArgs {
  size_t N;
  const float* scores;
  const uint32_t* off;
  int method;
  double empty;
  float* out;
};
struct ClipDeltaArgs {
  size_t N;
  const float* scores;
  const uint32_t* off;
  bool clip, delta, aliased;  // aliased: out overlaps scores (steps are then written one at a time)
  const float* success;
  float* out;
};
struct PotentialArgs {
  const float* rewards;
  const uint32_t* off;
  bool withFinal, aliased;
  const float* phi;
  double gamma;
  float* out;
};
struct DopamineArgs {
  size_t N;
  const float* hops;
  const uint32_t* off;
  int mode;
  bool inverse, rawFirst, aliased;  // aliased: out overlaps hops
  float* out;
};

// Whether two float arrays share memory.
bool overlaps(const float* a, size_t na, const float* b, size_t nb) { return a < b + nb && b < a + na; }

#if REWARDKIT_VECTOR
namespace lanes4 {
typedef v4d D;
#include "steps_lanes.inc"
}  // namespace lanes4
#if defined(__x86_64__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes8 {
typedef v8d D;
#include "steps_lanes.inc"
}  // namespace lanes8
#pragma GCC pop_options

// Picked at load time (function multiversioning, see common/vexp.h): 8 f64 lanes on AVX-512, 4 on
// AVX2 and baseline x86-64, with the same bits.
#define RK_STEPS_KERNEL(name, Args)                                                                                          \
  __attribute__((target("default"))) void name(const Args& a, size_t b, size_t e) { lanes4::name##All(a, b, e); }         \
  __attribute__((target("avx2"))) void name(const Args& a, size_t b, size_t e) { lanes4::name##All(a, b, e); }            \
  __attribute__((target("arch=x86-64-v4"))) void name(const Args& a, size_t b, size_t e) { lanes8::name##All(a, b, e); }
#else
#define RK_STEPS_KERNEL(name, Args) \
  void name(const Args& a, size_t b, size_t e) { lanes4::name##All(a, b, e); }
#endif
#else
namespace lanes1 {
typedef double D;
#include "steps_lanes.inc"
}  // namespace lanes1
#define RK_STEPS_KERNEL(name, Args) \
  void name(const Args& a, size_t b, size_t e) { lanes1::name##All(a, b, e); }
#endif
RK_STEPS_KERNEL(aggregateRows, AggregateArgs)
RK_STEPS_KERNEL(clipDeltaRows, ClipDeltaArgs)
RK_STEPS_KERNEL(potentialRows, PotentialArgs)
RK_STEPS_KERNEL(dopamineRows, DopamineArgs)
#undef RK_STEPS_KERNEL

Napi::Value AggregateSteps(const Napi::CallbackInfo& info) {
  OpArgs a(info, "aggregateSteps");
  const uint64_t B = a.size("rows"), N = a.size("steps");
  AggregateArgs p{};
  p.N = N;
  p.scores = a.array<float>("scores", N);
  p.off = a.offsets("offsets", B, N);
  p.method = a.choice("method", 8);
  p.empty = a.number("emptyValue");
  p.out = a.array<float>("out", B);
  return a.queue([p, B](Outputs&) {
    if (p.method == kLast) {  // no arithmetic: the last step as it is
      parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; i++) p.out[i] = p.off[i + 1] > p.off[i] ? p.scores[p.off[i + 1] - 1] : static_cast<float>(p.empty);
      });
      return;
    }
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) { aggregateRows(p, begin, end); });
  });
}

Napi::Value ClipDelta(const Napi::CallbackInfo& info) {
  OpArgs a(info, "clipDelta");
  const uint64_t B = a.size("rows"), N = a.size("steps");
  ClipDeltaArgs p{};
  p.N = N;
  p.scores = a.array<float>("scores", N);
  p.off = a.offsets("offsets", B, N);
  p.clip = a.flag("clip");
  p.delta = a.flag("delta");
  p.success = a.optional<float>("success", B);
  p.out = a.array<float>("out", N);
  p.aliased = overlaps(p.out, N, p.scores, N);
  return a.queue([p, B](Outputs&) {
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) { clipDeltaRows(p, begin, end); });
  });
}

Napi::Value PotentialShaping(const Napi::CallbackInfo& info) {
  OpArgs a(info, "potentialShaping");
  const uint64_t B = a.size("rows"), N = a.size("steps");
  PotentialArgs p{};
  p.rewards = a.array<float>("rewards", N);
  p.off = a.offsets("offsets", B, N);
  p.withFinal = a.flag("withFinal");
  const uint64_t nPhi = p.withFinal ? N + B : N;
  p.phi = a.array<float>("potentials", nPhi);
  p.gamma = a.number("gamma");
  p.out = a.array<float>("out", N);
  p.aliased = overlaps(p.out, N, p.rewards, N) || overlaps(p.out, N, p.phi, nPhi);
  return a.queue([p, B](Outputs&) {
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) { potentialRows(p, begin, end); });
  });
}

Napi::Value DopamineProgress(const Napi::CallbackInfo& info) {
  OpArgs a(info, "dopamineProgress");
  const uint64_t B = a.size("rows"), N = a.size("steps");
  DopamineArgs p{};
  p.N = N;
  p.hops = a.array<float>("hops", N);
  p.off = a.offsets("offsets", B, N);
  p.mode = a.choice("mode", 3);
  p.inverse = a.flag("inverse");
  p.rawFirst = a.flag("rawFirst");
  p.out = a.array<float>("out", N);
  p.aliased = overlaps(p.out, N, p.hops, N);
  return a.queue([p, B](Outputs&) {
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) { dopamineRows(p, begin, end); });
  });
}

}  // namespace

REWARDKIT_OP("aggregateSteps", AggregateSteps);
REWARDKIT_OP("clipDelta", ClipDelta);
REWARDKIT_OP("potentialShaping", PotentialShaping);
REWARDKIT_OP("dopamineProgress", DopamineProgress);

}  // namespace rewardkit
