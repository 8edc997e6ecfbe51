// One diffusion sampling step with log-probability: mirrors lib/diffusion/step.ref.ts. The per-row
// affine coefficients come from the TS layer (step.ts), so one loop serves every method: per element
// mean = ax·x + av·v, prev = mean + s·ε (ε given or from the counter hash in lib/diffusion/rng.ts), or
// the given prev, x̂0 = bx·x + bv·v, and Σ(prev − mean)² per row in f64. Math in f32 (as the reference
// steps), sums in f64; parallel over element chunks, each chunk's per-row partials combined in chunk
// order (deterministic). Never build with -ffast-math.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"

namespace rewardkit {
namespace {

constexpr size_t kMinPerThread = size_t{1} << 15;

inline float fromBits(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
inline float bf16(uint16_t h) { return fromBits(static_cast<uint32_t>(h) << 16); }
inline float f16(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t e = (h >> 10) & 31, m = h & 1023;
  if (e == 0) return (h & 0x8000 ? -1.0f : 1.0f) * static_cast<float>(m) * 5.9604644775390625e-8f;  // m·2^-24
  if (e == 31) return fromBits(sign | 0x7F800000u | (m << 13));
  return fromBits(sign | ((e + 112) << 23) | (m << 13));
}

// lowbias32 and the Box–Muller draw of rng.ts (f32 log/cos).
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
inline float gaussianAt(uint32_t k0, uint32_t k1, uint32_t e) {
  const uint32_t h1 = mix32(mix32(e + k0) ^ k1), h2 = mix32(mix32(e + k1) ^ k0);
  const float u1 = static_cast<float>((h1 >> 8) + 1) * 5.9604644775390625e-8f;
  const float u2 = static_cast<float>(h2 >> 8) * 5.9604644775390625e-8f;
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(3.14159265358979f * (2.0f * u2 - 1.0f));
}

struct StepArgs {
  uint64_t rows, inner;
  int dtype;  // 0 f32, 1 f16, 2 bf16
  const void *v, *x, *prev;
  const float* noise;
  uint32_t k0, k1;
  const float *coef, *scale;
  float *outPrev, *outMean, *outX0;
};

template <int D>
inline float load(const void* p, size_t i) {
  if constexpr (D == 0) return static_cast<const float*>(p)[i];
  else if constexpr (D == 1) return f16(static_cast<const uint16_t*>(p)[i]);
  else return bf16(static_cast<const uint16_t*>(p)[i]);
}

// Built twice (AVX2 and baseline x86-64), picked at load time, as in grpo.cc.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define REWARDKIT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define REWARDKIT_CLONES
#endif

// Where prev comes from: the given prev, mean + s·(given ε), mean + s·(drawn ε).
enum Source { kPrev = 0, kNoise = 1, kDraw = 2 };

// Elements [b, e) of row r; returns Σd² over them. One instantiation per (dtype, source, x̂0) so
// the loop has no branches; four f64 accumulators (one dependent chain of f64 adds is latency-bound).
template <int D, int S, bool X0>
REWARDKIT_CLONES double segment(const StepArgs& a, size_t r, size_t b, size_t e) {
  const float ax = a.coef[r * 4], av = a.coef[r * 4 + 1], bx = a.coef[r * 4 + 2], bv = a.coef[r * 4 + 3];
  const float s = a.scale[r];
  float* __restrict outMean = a.outMean;
  float* __restrict outPrev = a.outPrev;
  float* __restrict outX0 = a.outX0;
  double acc[4] = {0, 0, 0, 0};
  for (size_t i = b; i < e; i++) {
    const float x = load<D>(a.x, i), v = load<D>(a.v, i);
    const float mean = ax * x + av * v;
    float prev;
    if constexpr (S == kPrev) prev = load<D>(a.prev, i);
    else if constexpr (S == kNoise) prev = mean + s * a.noise[i];
    else prev = mean + s * gaussianAt(a.k0, a.k1, static_cast<uint32_t>(i));
    outMean[i] = mean;
    outPrev[i] = prev;
    if constexpr (X0) outX0[i] = bx * x + bv * v;
    const double d = static_cast<double>(prev) - static_cast<double>(mean);
    acc[i & 3] += d * d;
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

using Segment = double (*)(const StepArgs&, size_t, size_t, size_t);

template <int D>
Segment pick(int source, bool x0) {
  switch (source * 2 + (x0 ? 1 : 0)) {
    case 0: return segment<D, kPrev, false>;
    case 1: return segment<D, kPrev, true>;
    case 2: return segment<D, kNoise, false>;
    case 3: return segment<D, kNoise, true>;
    case 4: return segment<D, kDraw, false>;
    default: return segment<D, kDraw, true>;
  }
}

void run(const StepArgs& a, double* sums) {
  const int source = a.prev ? kPrev : a.noise ? kNoise : kDraw;
  const Segment segment = a.dtype == 0 ? pick<0>(source, a.outX0 != nullptr) : a.dtype == 1 ? pick<1>(source, a.outX0 != nullptr) : pick<2>(source, a.outX0 != nullptr);
  const size_t total = a.rows * a.inner;
  const size_t threads = std::min<size_t>(hardware_threads(), std::max<size_t>(1, total / kMinPerThread));
  const size_t chunk = (total + threads - 1) / threads;
  // Per chunk, partial sums of the rows it touches (at most rows/threads + 2), combined in chunk order.
  std::vector<std::vector<double>> part(threads);
  parallel_for(threads, 1, [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; t++) {
      const size_t b = t * chunk, e = std::min(total, b + chunk);
      if (b >= e) continue;
      const size_t r0 = b / a.inner, r1 = (e - 1) / a.inner;
      std::vector<double> p(r1 - r0 + 1, 0.0);
      for (size_t r = r0; r <= r1; r++) p[r - r0] = segment(a, r, std::max(b, r * a.inner), std::min(e, (r + 1) * a.inner));
      part[t] = std::move(p);
    }
  });
  for (size_t r = 0; r < a.rows; r++) sums[r] = 0;
  for (size_t t = 0; t < threads; t++) {
    if (part[t].empty()) continue;
    const size_t r0 = t * chunk / a.inner;
    for (size_t k = 0; k < part[t].size(); k++) sums[r0 + k] += part[t][k];
  }
}

Napi::Value DiffusionStep(const Napi::CallbackInfo& info) {
  OpArgs a(info, "diffusionStep");
  StepArgs s{};
  s.rows = a.size("rows");
  s.inner = a.size("inner");
  const uint64_t total = s.rows * s.inner;
  if (s.rows == 0 || s.inner == 0 || total > kMaxU32) a.range("expected 0 < rows·inner < 2^32");
  s.dtype = a.choice("dtype", 3);
  if (s.dtype == 0) {
    s.v = a.array<float>("modelOutput", total);
    s.x = a.array<float>("sample", total);
    s.prev = a.optional<float>("prevSample", total);
  } else {
    s.v = a.array<uint16_t>("modelOutput", total);
    s.x = a.array<uint16_t>("sample", total);
    s.prev = a.optional<uint16_t>("prevSample", total);
  }
  s.noise = a.optional<float>("noise", total);
  s.k0 = static_cast<uint32_t>(a.size("key0"));
  s.k1 = static_cast<uint32_t>(a.size("key1"));
  s.coef = a.array<float>("coef", s.rows * 4);
  s.scale = a.array<float>("scale", s.rows);
  s.outPrev = a.array<float>("outPrev", total);
  s.outMean = a.array<float>("outMean", total);
  s.outX0 = a.optional<float>("outX0", total);
  double* sums = a.array<double>("sums", s.rows);
  return a.queue([s, sums](Outputs&) {
    run(s, sums);
  });
}

}  // namespace

REWARDKIT_OP("diffusionStep", DiffusionStep);

}  // namespace rewardkit
