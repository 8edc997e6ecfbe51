// Batched reward scoring: ensembles, PAR shaping, PRM step aggregation / Clip-Delta, potential
// shaping and Robo-Dopamine progress. Each kernel mirrors its JS reference in lib/scoring/*.ref.ts
// line by line, in f64 with f32 results, rows (responses, trajectories) split over threads.
// Never build with -ffast-math: NaN checks and the exact rounding are the point.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"

namespace rewardkit {
namespace {

constexpr size_t kMinRowsPerThread = size_t{1} << 13;

inline float f32(double x) { return static_cast<float>(x); }

// ---------------------------------------------------------------------------------------------
// PRM (prm.ref.ts).

enum Agg { kAMin, kAMax, kProd, kGeo, kAMean, kLogit, kOdds, kLast };

double aggregateSteps(int method, const float* s, size_t n) {
  double acc;
  switch (method) {
    case kLast: return s[n - 1];
    case kAMin:
    case kAMax:
      acc = s[0];
      for (size_t t = 0; t < n; t++) {
        const double x = s[t];
        if (std::isnan(x)) return NAN;
        if (method == kAMin ? x < acc : x > acc) acc = x;
      }
      return acc;
    case kProd: acc = 1; for (size_t t = 0; t < n; t++) acc *= s[t]; return acc;
    case kAMean: acc = 0; for (size_t t = 0; t < n; t++) acc += s[t]; return acc / static_cast<double>(n);
    case kGeo: acc = 0; for (size_t t = 0; t < n; t++) acc += std::log(static_cast<double>(s[t])); return std::exp(acc / static_cast<double>(n));
    case kLogit:
      acc = 0;
      for (size_t t = 0; t < n; t++) { const double q = s[t]; acc += std::log(q / (1 - q)); }
      return 1 / (1 + std::exp(-acc / static_cast<double>(n)));
    default: {
      acc = 0;
      for (size_t t = 0; t < n; t++) { const double q = s[t]; acc += q / (1 - q); }
      const double m = acc / static_cast<double>(n);
      return std::isnan(m) ? NAN : std::max(0.0, m);
    }
  }
}

Napi::Value AggregateSteps(const Napi::CallbackInfo& info) {
  OpArgs a(info, "aggregateSteps");
  const uint64_t B = a.size("rows"), N = a.size("steps");
  const float* s = a.array<float>("scores", N);
  const uint32_t* off = a.offsets("offsets", B, N);
  const int method = a.choice("method", 8);
  const double empty = a.number("emptyValue");
  float* out = a.array<float>("out", B);
  return a.queue([=](Outputs&) {
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) {
        const size_t n = off[i + 1] - off[i];
        out[i] = f32(n ? aggregateSteps(method, s + off[i], n) : empty);
      }
    });
  });
}

Napi::Value ClipDelta(const Napi::CallbackInfo& info) {
  OpArgs a(info, "clipDelta");
  const uint64_t B = a.size("rows"), N = a.size("steps");
  const float* s = a.array<float>("scores", N);
  const uint32_t* off = a.offsets("offsets", B, N);
  const bool clip = a.flag("clip"), delta = a.flag("delta");
  const float* success = a.optional<float>("success", B);
  float* out = a.array<float>("out", N);
  return a.queue([=](Outputs&) {
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) {
        const size_t start = off[i], stop = off[i + 1], K = stop - start;
        if (!K) continue;
        for (size_t t = start; t < stop; t++) out[t] = s[t];
        if (clip) {
          double sum = 0;
          for (size_t t = start; t < stop; t++) sum += s[t];
          const float eta = f32(sum / static_cast<double>(K));
          for (size_t t = start; t < stop; t++) {
            const float r = out[t];
            out[t] = r > eta ? 0.0f : r <= eta ? r - eta : r;  // f32 - f32 rounds as Math.fround(r - eta)
          }
        }
        if (delta) {
          for (size_t t = start; t + 2 < stop; t++) out[t] = out[t] - out[t + 1];
          out[stop - 1] = 0;
        }
        if (success) out[stop - 1] = success[i];
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Potential shaping and Robo-Dopamine progress (pbrs.ref.ts).

Napi::Value PotentialShaping(const Napi::CallbackInfo& info) {
  OpArgs a(info, "potentialShaping");
  const uint64_t B = a.size("rows"), N = a.size("steps");
  const float* r = a.array<float>("rewards", N);
  const uint32_t* off = a.offsets("offsets", B, N);
  const bool withFinal = a.flag("withFinal");
  const float* phi = a.array<float>("potentials", withFinal ? N + B : N);
  const double gamma = a.number("gamma");
  float* out = a.array<float>("out", N);
  return a.queue([=](Outputs&) {
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) {
        const size_t start = off[i], stop = off[i + 1], base = withFinal ? start + i : start;
        for (size_t t = start; t < stop; t++) {
          const size_t k = base + (t - start);
          const double next = withFinal || t + 1 < stop ? static_cast<double>(phi[k + 1]) : 0.0;
          out[t] = f32(static_cast<double>(r[t]) + gamma * next - static_cast<double>(phi[k]));
        }
      }
    });
  });
}

inline double hopStep(double p, double h) { return h >= 0 ? p + (1 - p) * h : p + p * h; }

Napi::Value DopamineProgress(const Napi::CallbackInfo& info) {
  OpArgs a(info, "dopamineProgress");
  const uint64_t B = a.size("rows"), N = a.size("steps");
  const float* h = a.array<float>("hops", N);
  const uint32_t* off = a.offsets("offsets", B, N);
  const int mode = a.choice("mode", 3);
  const bool inverse = a.flag("inverse"), rawFirst = a.flag("rawFirst");
  float* out = a.array<float>("out", N);
  return a.queue([=](Outputs&) {
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) {
        const size_t start = off[i], stop = off[i + 1];
        if (mode == 1) { for (size_t t = start; t < stop; t++) out[t] = h[t]; continue; }
        if (mode == 2) { for (size_t t = start; t < stop; t++) out[t] = f32(1.0 + h[t]); continue; }
        if (inverse) {
          double prog = 1;
          for (size_t t = stop; t-- > start;) { prog = hopStep(prog, h[t]); out[t] = f32(prog); }
        } else {
          double prog = 0;
          for (size_t t = start; t < stop; t++) { prog = rawFirst && t == start ? h[t] : hopStep(prog, h[t]); out[t] = f32(prog); }
        }
      }
    });
  });
}

}  // namespace

REWARDKIT_OP("aggregateSteps", AggregateSteps);
REWARDKIT_OP("clipDelta", ClipDelta);
REWARDKIT_OP("potentialShaping", PotentialShaping);
REWARDKIT_OP("dopamineProgress", DopamineProgress);

}  // namespace rewardkit
