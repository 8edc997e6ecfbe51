// PAR's reward shaping (lib/scoring/shaping.ref.ts; steps as STEP in shaping.ts): rows kLanes at a
// time (shaping_lanes.inc) with vector exp/log1p, rows split over threads. Passes that start with a
// running-stats step read the moments of the batch as the previous pass left it: that pass computes
// them per fixed block of rows while the block is still in cache, merged in block order (Chan et
// al.), so they never depend on the thread count.
// Never build with -ffast-math: NaN checks and the exact rounding are the point.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
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
constexpr size_t kStatBlock = size_t{1} << 14;  // rows per block of the batch moments

enum Step { kPre = 1, kMeanstd = 2, kClip = 4, kCeil2 = 8, kMinmax = 16, kPost = 32 };
constexpr int kStatSteps = kMeanstd | kClip | kMinmax;
constexpr double kPoly[6] = {0.0002026691697803558, 5.296811671489128e-9, -0.010130912034729786,
                             -1.7892410516002917e-7, 0.22878851143138285, 0.5000008318663808};
constexpr double kZ85 = 1.0364333894937898;
enum Fn { kIdentity, kSigmoidK, kTanh, kPolyFn };

struct ShapeArgs {
  size_t B;
  const float* rewards;
  const float* refs;
  size_t refCount;
  const uint32_t* refOffsets;  // null for dense references: row i's are [i·refStride, (i+1)·refStride)
  size_t refStride;
  const uint32_t* lengths;
  bool hasCeil, penalty, centered, sgfc, meanstd, clipping, minmax, lsc;
  double ceil, validLength, coefficient, k;
  int sigmoid, tanh, fittedPoly;  // 0 off, 1 on the reward, 2 relative
  size_t maxRef;
  double n, mean, M2, min, max;  // RunningStats
  float* out;
};

// One pass: its steps, and its running-stats step x → (x − a)/b (meanstd, minmax) or clamp to [a, b].
struct Pass {
  int steps, stat;
  double a, b;
};
// Where a pass reads and writes: rewards (f32) or the f64 working copy, the copy or `out` (f32).
struct Io {
  const float* srcF;
  const double* srcD;
  float* dstF;
  double* dstD;
};
struct Partial {
  double n, mean, M2, min, max;
};

#if REWARDKIT_VECTOR
namespace lanes4 {
typedef v4d D;
#include "shaping_lanes.inc"
}  // namespace lanes4
#if defined(__x86_64__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes8 {
typedef v8d D;
#include "shaping_lanes.inc"
}  // namespace lanes8
#pragma GCC pop_options

// Picked at load time (function multiversioning, see common/vexp.h): 8 lanes on AVX-512, 4 on AVX2
// and baseline x86-64.
__attribute__((target("default"))) void passRows(const ShapeArgs& p, const Pass& s, const Io& io, size_t begin, size_t end) {
  lanes4::passRowsAll(p, s, io, begin, end);
}
__attribute__((target("avx2"))) void passRows(const ShapeArgs& p, const Pass& s, const Io& io, size_t begin, size_t end) {
  lanes4::passRowsAll(p, s, io, begin, end);
}
__attribute__((target("arch=x86-64-v4"))) void passRows(const ShapeArgs& p, const Pass& s, const Io& io, size_t begin, size_t end) {
  lanes8::passRowsAll(p, s, io, begin, end);
}
__attribute__((target("default"))) Partial blockPartial(const float* f, const double* d, size_t n) { return lanes4::partialAll(f, d, n); }
__attribute__((target("avx2"))) Partial blockPartial(const float* f, const double* d, size_t n) { return lanes4::partialAll(f, d, n); }
__attribute__((target("arch=x86-64-v4"))) Partial blockPartial(const float* f, const double* d, size_t n) { return lanes8::partialAll(f, d, n); }
#else
void passRows(const ShapeArgs& p, const Pass& s, const Io& io, size_t begin, size_t end) { lanes4::passRowsAll(p, s, io, begin, end); }
Partial blockPartial(const float* f, const double* d, size_t n) { return lanes4::partialAll(f, d, n); }
#endif
#else
namespace lanes1 {
typedef double D;
#include "shaping_lanes.inc"
}  // namespace lanes1
void passRows(const ShapeArgs& p, const Pass& s, const Io& io, size_t begin, size_t end) { lanes1::passRowsAll(p, s, io, begin, end); }
Partial blockPartial(const float* f, const double* d, size_t n) { return lanes1::partialAll(f, d, n); }
#endif

// The f64 working copy of a batch, from a process-wide free list: whichever libuv thread runs a
// call reuses what an earlier call grew. Fresh memory per call, or per thread as before, spent most
// of a call in page faults on these VMs (measured: 30–70 ms first calls against 3 ms).
class Scratch {
 public:
  explicit Scratch(size_t n) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        v_ = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (v_.size() < n) v_.resize(n);
  }
  ~Scratch() {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(v_));
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  double* data() { return v_.data(); }

 private:
  std::vector<double> v_;
  static inline std::mutex mutex_;
  static inline std::vector<std::vector<double>> free_;
};

// RunningStats.update() with the batch's moments: PAR's Chan merge.
void update(ShapeArgs& p, const Partial& b) {
  const double variance = b.M2 / b.n;  // batchMoments() returns the population variance
  p.max = std::max(p.max, b.max);
  p.min = std::min(p.min, b.min);
  const double newN = p.n + b.n;
  const double delta = b.mean - p.mean;
  p.mean += delta * (b.n / newN);
  p.M2 += variance * b.n + delta * delta * ((p.n * b.n) / newN);
  p.n = newN;
}

// The block partials combined in block order (Chan et al.'s pairwise update).
Partial merge(const std::vector<Partial>& parts) {
  Partial a = parts[0];
  for (size_t i = 1; i < parts.size(); i++) {
    const Partial& b = parts[i];
    const double n = a.n + b.n, delta = b.mean - a.mean;
    a.mean += delta * (b.n / n);
    a.M2 += b.M2 + delta * delta * (a.n * b.n / n);
    a.n = n;
    a.min = b.min < a.min ? b.min : a.min;
    a.max = b.max > a.max ? b.max : a.max;
  }
  return a;
}

// Whether a pass changes anything besides its running-stats step.
bool rowStepsActive(const ShapeArgs& p, int steps) {
  return ((steps & kPre) && (p.hasCeil || p.penalty || p.centered || p.sgfc)) || (steps & kCeil2) ||
         ((steps & kPost) && (p.sigmoid || p.tanh || p.fittedPoly || p.lsc));
}

void shape(ShapeArgs& p) {
  const size_t B = p.B;
  // shapingPasses().
  std::vector<int> passes{kPre};
  const auto push = [&](int s, bool stat) { if (stat) passes.push_back(s); else passes.back() |= s; };
  if (p.meanstd) push(kMeanstd, true);
  if (p.clipping) push(kClip, true);
  if (p.hasCeil) push(kCeil2, false);
  if (p.minmax) push(kMinmax, true);
  push(kPost, false);
  if (passes.size() == 1) {  // no running stats: one pass from rewards to out
    const Pass s{passes[0], 0, 0, 0};
    const Io io{p.rewards, nullptr, p.out, nullptr};
    parallel_for(B, kMinRowsPerThread, [&](size_t begin, size_t end) { passRows(p, s, io, begin, end); });
    return;
  }
  Scratch scratch(B);
  double* v = scratch.data();
  const size_t blocks = (B + kStatBlock - 1) / kStatBlock;
  std::vector<Partial> parts(blocks);
  const float* srcF = p.rewards;  // the batch as it stands: rewards until a pass has written v
  bool haveMoments = false;
  for (size_t k = 0; k < passes.size(); k++) {
    const int steps = passes[k], stat = steps & kStatSteps;
    const bool last = k + 1 == passes.size();
    Pass s{steps, stat, 0, 0};
    if (stat) {
      if (!haveMoments) {
        parallel_for(blocks, 1, [&](size_t b0, size_t b1) {
          for (size_t b = b0; b < b1; b++) {
            const size_t i = b * kStatBlock;
            parts[b] = blockPartial(srcF ? srcF + i : nullptr, srcF ? nullptr : v + i, std::min(kStatBlock, B - i));
          }
        });
      }
      update(p, merge(parts));
      const double sd = std::sqrt(p.n > 1 ? p.M2 / p.n : 0.0);
      if (stat & kMeanstd) { s.a = p.mean; s.b = sd > 0 ? sd : 1; }
      else if (stat & kClip) { s.a = p.mean - sd; s.b = p.mean + sd; }
      else { s.a = p.min; s.b = p.max - p.min; }
    } else if (!rowStepsActive(p, steps)) {
      continue;  // the first pass with nothing to do: the next one reads the rewards
    }
    const Io io{srcF, srcF ? nullptr : v, last ? p.out : nullptr, last ? nullptr : v};
    parallel_for(blocks, 1, [&](size_t b0, size_t b1) {
      for (size_t b = b0; b < b1; b++) {
        const size_t i = b * kStatBlock, n = std::min(kStatBlock, B - i);
        passRows(p, s, io, i, i + n);
        if (!last) parts[b] = blockPartial(nullptr, v + i, n);  // the next pass's moments, while in cache
      }
    });
    srcF = nullptr;
    haveMoments = !last;
  }
}

Napi::Value ShapeRewards(const Napi::CallbackInfo& info) {
  OpArgs a(info, "shapeRewards");
  ShapeArgs p{};
  p.B = a.size("rows");
  if (p.B == 0) a.range("expected rows >= 1");
  const uint64_t refCount = p.refCount = a.size("refCount");
  p.rewards = a.array<float>("rewards", p.B);
  p.refs = a.array<float>("refs", refCount);
  // Dense references come as their count per row (no B+1 offsets to copy and check).
  const Napi::Value stride = a.object().Get("refStride");
  if (stride.IsUndefined() || stride.IsNull()) {
    p.refOffsets = a.offsets("refOffsets", p.B, refCount);
  } else {
    p.refStride = a.size("refStride");
    if (p.refStride * p.B != refCount) a.range("expected refCount == rows*refStride");
  }
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
    if (!p.refOffsets && p.refStride == 0) a.range("expected at least one reference per row");
    for (size_t i = 0; p.refOffsets && i < p.B; i++) if (p.refOffsets[i + 1] == p.refOffsets[i]) a.range("expected at least one reference per row");
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

}  // namespace

REWARDKIT_OP("shapeRewards", ShapeRewards);

}  // namespace rewardkit
