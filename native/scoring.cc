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
// PAR shaping (shaping.ref.ts; steps as STEP in shaping.ts).

enum Step { kPre = 1, kMeanstd = 2, kClip = 4, kCeil2 = 8, kMinmax = 16, kPost = 32 };
constexpr double kPoly[6] = {0.0002026691697803558, 5.296811671489128e-9, -0.010130912034729786,
                             -1.7892410516002917e-7, 0.22878851143138285, 0.5000008318663808};
constexpr double kZ85 = 1.0364333894937898;

struct ShapeArgs {
  size_t B;
  const float* rewards;
  const float* refs;
  const uint32_t* refOffsets;
  const uint32_t* lengths;
  bool hasCeil, penalty, centered, sgfc, meanstd, clipping, minmax, lsc;
  double ceil, validLength, coefficient, k;
  int sigmoid, tanh, fittedPoly;  // 0 off, 1 on the reward, 2 relative
  size_t maxRef;
  double n, mean, M2, min, max;  // RunningStats
  float* out;
};

inline double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
inline double logSigmoid(double x) { return std::min(x, 0.0) - std::log1p(std::exp(-std::fabs(x))); }
inline double ceilOf(double x, double c) { return x > c ? c : x; }
inline double fittedPoly(double x) {
  if (x <= -5) return 0;
  if (x >= 5) return 1;
  const double x2 = x * x, x3 = x2 * x, x4 = x3 * x, x5 = x4 * x;
  return kPoly[0] * x5 + kPoly[1] * x4 + kPoly[2] * x3 + kPoly[3] * x2 + kPoly[4] * x + kPoly[5];
}

enum Fn { kIdentity, kSigmoidK, kTanh, kPolyFn };
inline double apply(const ShapeArgs& p, int fn, double d) {
  switch (fn) {
    case kSigmoidK: return sigmoid(p.k * d);
    case kTanh: return std::tanh(d);
    case kPolyFn: return fittedPoly(d);
    default: return d;
  }
}
// relative(): the mean of fn(r − ref_j) over the row's first maxRef references.
inline double relative(const ShapeArgs& p, size_t i, double r, int fn) {
  const size_t start = p.refOffsets[i], end = std::min<size_t>(p.refOffsets[i + 1], start + p.maxRef);
  double s = 0;
  for (size_t j = start; j < end; j++) s += apply(p, fn, r - p.refs[j]);
  return s / static_cast<double>(end - start);
}
inline double transform(const ShapeArgs& p, size_t i, double r, int mode, int fn) {
  return mode == 2 ? relative(p, i, r, fn) : apply(p, fn, r);
}
double lscQuantile(const ShapeArgs& p, size_t i) {
  const size_t start = p.refOffsets[i], n = p.refOffsets[i + 1] - start;
  double sum = 0;
  for (size_t j = 0; j < n; j++) sum += p.refs[start + j];
  const double mean = n ? sum / static_cast<double>(n) : 0;
  double ss = 0;
  for (size_t j = 0; j < n; j++) { const double d = p.refs[start + j] - mean; ss += d * d; }
  const double sd = n ? std::sqrt(ss / static_cast<double>(n > 1 ? n - 1 : n)) : 0;
  return mean + (sd + 1e-5) * kZ85;
}

double rowSteps(const ShapeArgs& p, size_t i, double r, int steps) {
  if (steps & kPre) {
    if (p.hasCeil) r = ceilOf(r, p.ceil);
    if (p.penalty && p.lengths[i] > p.validLength) r -= p.coefficient * (p.lengths[i] - p.validLength);
    if (p.centered) r = relative(p, i, r, kIdentity);
    if (p.sgfc) r = relative(p, i, r - 3, kSigmoidK);
  }
  if (steps & kCeil2) r = ceilOf(r, p.ceil);
  if (steps & kPost) {
    if (p.sigmoid) r = transform(p, i, r, p.sigmoid, kSigmoidK);
    if (p.tanh) r = transform(p, i, r, p.tanh, kTanh);
    if (p.fittedPoly) r = transform(p, i, r, p.fittedPoly, kPolyFn);
    if (p.lsc) r = logSigmoid(r - lscQuantile(p, i));
  }
  return r;
}

// batchMoments(): two passes over fixed blocks (so the sums do not depend on the thread count),
// block partials combined in block order.
struct Moments { double n, mean, variance, min, max; };
Moments batchMoments(const std::vector<double>& v) {
  constexpr size_t kBlock = size_t{1} << 14;
  const size_t n = v.size(), blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> sum(blocks, 0.0), lo(blocks, INFINITY), hi(blocks, -INFINITY), ss(blocks, 0.0);
  parallel_for(blocks, 1, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
      double s = 0, l = INFINITY, h = -INFINITY;
      for (size_t i = b * kBlock, e = std::min(n, i + kBlock); i < e; i++) { s += v[i]; l = std::min(l, v[i]); h = std::max(h, v[i]); }
      sum[b] = s; lo[b] = l; hi[b] = h;
    }
  });
  double s = 0, l = INFINITY, h = -INFINITY;
  for (size_t b = 0; b < blocks; b++) { s += sum[b]; l = std::min(l, lo[b]); h = std::max(h, hi[b]); }
  const double mean = s / static_cast<double>(n);
  parallel_for(blocks, 1, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
      double q = 0;
      for (size_t i = b * kBlock, e = std::min(n, i + kBlock); i < e; i++) { const double d = v[i] - mean; q += d * d; }
      ss[b] = q;
    }
  });
  double q = 0;
  for (size_t b = 0; b < blocks; b++) q += ss[b];
  return {static_cast<double>(n), mean, q / static_cast<double>(n), l, h};
}

// RunningStats.update(): PAR's Chan merge.
void update(ShapeArgs& p, const Moments& b) {
  p.max = std::max(p.max, b.max);
  p.min = std::min(p.min, b.min);
  const double newN = p.n + b.n;
  const double delta = b.mean - p.mean;
  p.mean += delta * (b.n / newN);
  p.M2 += b.variance * b.n + delta * delta * ((p.n * b.n) / newN);
  p.n = newN;
}

void shape(ShapeArgs& p) {
  const size_t B = p.B;
  // The f64 working copy is kept per worker thread across calls: a fresh 8 MiB vector per call spent
  // most of its time in page faults on these VMs (perf: 40% of a 1M-row call).
  // (A named reference: the worker threads of parallel_for must see THIS thread's vector.)
  thread_local std::vector<double> scratch;
  std::vector<double>& v = scratch;
  v.assign(p.rewards, p.rewards + B);
  // shapingPasses().
  std::vector<int> passes{kPre};
  const auto push = [&](int s, bool stat) { if (stat) passes.push_back(s); else passes.back() |= s; };
  if (p.meanstd) push(kMeanstd, true);
  if (p.clipping) push(kClip, true);
  if (p.hasCeil) push(kCeil2, false);
  if (p.minmax) push(kMinmax, true);
  push(kPost, false);
  for (const int steps : passes) {
    int stat = steps & (kMeanstd | kClip | kMinmax);
    double a = 0, b = 0;
    if (stat) {
      update(p, batchMoments(v));
      const double sd = std::sqrt(p.n > 1 ? p.M2 / p.n : 0.0);
      if (stat & kMeanstd) { a = p.mean; b = sd > 0 ? sd : 1; }
      else if (stat & kClip) { a = p.mean - sd; b = p.mean + sd; }
      else { a = p.min; b = p.max - p.min; }
    }
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) {
        double x = v[i];
        if (stat & kMeanstd) x = (x - a) / b;
        else if (stat & kClip) x = x < a ? a : x > b ? b : x;
        else if (stat & kMinmax) x = (x - a) / b;
        v[i] = rowSteps(p, i, x, steps);
      }
    });
  }
  for (size_t i = 0; i < B; i++) p.out[i] = f32(v[i]);
}

Napi::Value ShapeRewards(const Napi::CallbackInfo& info) {
  OpArgs a(info, "shapeRewards");
  ShapeArgs p{};
  p.B = a.size("rows");
  if (p.B == 0) a.range("expected rows >= 1");
  const uint64_t refCount = a.size("refCount");
  p.rewards = a.array<float>("rewards", p.B);
  p.refs = a.array<float>("refs", refCount);
  p.refOffsets = a.offsets("refOffsets", p.B, refCount);
  p.lengths = a.optional<uint32_t>("lengths", p.B);
  p.hasCeil = a.flag("hasCeil");
  p.ceil = a.number("ceil");
  p.penalty = a.flag("penalty");
  if (p.penalty && !p.lengths) a.range("expected 'lengths' when 'penalty' is on");
  p.validLength = a.number("validLength");
  p.coefficient = a.number("coefficient");
  p.centered = a.flag("centered");
  p.sgfc = a.flag("sgfc");
  p.meanstd = a.flag("meanstd");
  p.clipping = a.flag("clipping");
  p.minmax = a.flag("minmax");
  p.sigmoid = a.choice("sigmoid", 3);
  p.tanh = a.choice("tanh", 3);
  p.fittedPoly = a.choice("fittedPoly", 3);
  p.lsc = a.flag("lsc");
  p.k = a.number("k");
  p.maxRef = a.size("maxRef");
  if (p.maxRef == 0) a.range("expected maxRef >= 1");
  // Relative transforms divide by the row's reference count: every row must have one.
  if (p.centered || p.sgfc || p.sigmoid == 2 || p.tanh == 2 || p.fittedPoly == 2) {
    for (size_t i = 0; i < p.B; i++) if (p.refOffsets[i + 1] == p.refOffsets[i]) a.range("expected at least one reference per row");
  }
  p.n = a.number("statN");
  p.mean = a.number("statMean");
  p.M2 = a.number("statM2");
  p.min = a.number("statMin");
  p.max = a.number("statMax");
  p.out = a.array<float>("out", p.B);
  return a.queue([p](Outputs& r) mutable {
    shape(p);
    r.emplace_back("n", p.n);
    r.emplace_back("mean", p.mean);
    r.emplace_back("M2", p.M2);
    r.emplace_back("min", p.min);
    r.emplace_back("max", p.max);
  });
}

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

REWARDKIT_OP("shapeRewards", ShapeRewards);
REWARDKIT_OP("aggregateSteps", AggregateSteps);
REWARDKIT_OP("clipDelta", ClipDelta);
REWARDKIT_OP("potentialShaping", PotentialShaping);
REWARDKIT_OP("dopamineProgress", DopamineProgress);

}  // namespace rewardkit
