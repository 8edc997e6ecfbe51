// One diffusion sampling step with log-probability: mirrors lib/diffusion/step.ref.ts bit for bit. The
// per-row affine coefficients come from the TS layer (step.ts), so one loop serves every method: per
// element mean = f32(ax·x + av·v), prev = f32(mean + s·ε) (ε given, or drawn by rng.ts's generator,
// reproduced exactly in diffusion_lanes.inc) or the given prev, x̂0 = f32(bx·x + bv·v), and per row
// Σ(prev − mean)² in f64. Like the JS reference, every element is computed in f64 from the f32 (or
// widened f16/bf16) values and rounded once to f32, so the latents equal the reference's bits; only
// the order of the f64 row sums differs. The elements are cut into fixed blocks of kBlock (the unit
// of the thread pool) and each block into its rows' segments; a row's segment sums are added in block
// order, so the sums never depend on the thread count or the vector width. Never build with
// -ffast-math.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace rewardkit {
namespace {

constexpr size_t kBlock = size_t{1} << 14;  // elements per work item of the pool
constexpr size_t kSub = 512;                // elements widened / drawn at a time (stays in L1)

struct StepArgs {
  uint64_t rows, inner;
  int dtype;  // 0 f32, 1 f16, 2 bf16
  const void *v, *x, *prev;
  const float* noise;
  uint32_t k0, k1;
  const float *coef, *scale;
  float *outPrev, *outMean, *outX0;
};

#if REWARDKIT_VECTOR
typedef double v2d __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef uint64_t v4ul __attribute__((vector_size(32)));
typedef uint64_t v8ul __attribute__((vector_size(64)));
typedef uint32_t v16u __attribute__((vector_size(64)));

// The vector types of N f64 lanes (f64, i64, f32, i32, u32, u64) and the 2N-lane u32 of the hashes.
template <int N> struct Vec;
template <> struct Vec<4> {
  typedef v4d D; typedef v4l L; typedef v4f F; typedef v4i I; typedef v4u U; typedef v4ul UL; typedef v8u U2;
  static RK_INLINE U lowHalf(U2 x) { return __builtin_shufflevector(x, x, 0, 1, 2, 3); }
  static RK_INLINE U highHalf(U2 x) { return __builtin_shufflevector(x, x, 4, 5, 6, 7); }
};
template <> struct Vec<8> {
  typedef v8d D; typedef v8l L; typedef v8f F; typedef v8i I; typedef v8u U; typedef v8ul UL; typedef v16u U2;
  static RK_INLINE U lowHalf(U2 x) { return __builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7); }
  static RK_INLINE U highHalf(U2 x) { return __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15); }
};

// fdlibm's constants (e_log.c, k_cos.c, k_sin.c, e_rem_pio2.c), as V8's src/base/ieee754.cc has them.
constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLg1 = 6.666666666666735130e-01, kLg2 = 3.999999999940941908e-01, kLg3 = 2.857142874366239149e-01,
                 kLg4 = 2.222219843214978396e-01, kLg5 = 1.818357216161805012e-01, kLg6 = 1.531383769920937332e-01,
                 kLg7 = 1.479819860511658591e-01;
constexpr double kC1 = 4.16666666666666019037e-02, kC2 = -1.38888888888741095749e-03, kC3 = 2.48015872894767294178e-05,
                 kC4 = -2.75573143513906633035e-07, kC5 = 2.08757232129817482790e-09, kC6 = -1.13596475577881948265e-11;
constexpr double kS1 = -1.66666666666666324348e-01, kS2 = 8.33333333332248946124e-03, kS3 = -1.98412698298579493134e-04,
                 kS4 = 2.75573137070700676789e-06, kS5 = -2.50507602534068634195e-08, kS6 = 1.58969099521155010221e-10;
constexpr double kInvPio2 = 6.36619772367581382433e-01, kPio2_1 = 1.57079632673412561417e+00,
                 kPio2_1t = 6.07710050650619224932e-11, kPio2_2 = 6.07710050630396597660e-11,
                 kPio2_2t = 2.02226624879595063154e-21, kPio2_3 = 2.02226624871116645580e-21,
                 kPio2_3t = 8.47842766036889956997e-32;
constexpr double kPi = 3.141592653589793;  // Math.PI

namespace lanes4 {
#include "diffusion_lanes.inc"
}  // namespace lanes4

#if defined(__x86_64__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes8 {
#include "diffusion_lanes.inc"
}  // namespace lanes8
#pragma GCC pop_options

// Picked at load time (function multiversioning, see vexp.h): 8 f64 lanes on AVX-512 (x86-64-v4),
// 4 on AVX2 and baseline x86-64; the same bits on all three.
__attribute__((target("default"))) double stepSegment(const StepArgs& a, size_t r, size_t b, size_t e) {
  return lanes4::Lanes<4>::segmentAny(a, r, b, e);
}
__attribute__((target("avx2"))) double stepSegment(const StepArgs& a, size_t r, size_t b, size_t e) {
  return lanes4::Lanes<4>::segmentAny(a, r, b, e);
}
__attribute__((target("arch=x86-64-v4"))) double stepSegment(const StepArgs& a, size_t r, size_t b, size_t e) {
  return lanes8::Lanes<8>::segmentAny(a, r, b, e);
}
__attribute__((target("default"))) void drawNoise(uint32_t k0, uint32_t k1, uint32_t first, float* out, size_t n) {
  lanes4::Lanes<4>::drawMany(k0, k1, first, out, n);
}
__attribute__((target("avx2"))) void drawNoise(uint32_t k0, uint32_t k1, uint32_t first, float* out, size_t n) {
  lanes4::Lanes<4>::drawMany(k0, k1, first, out, n);
}
__attribute__((target("arch=x86-64-v4"))) void drawNoise(uint32_t k0, uint32_t k1, uint32_t first, float* out, size_t n) {
  lanes8::Lanes<8>::drawMany(k0, k1, first, out, n);
}
#else
double stepSegment(const StepArgs& a, size_t r, size_t b, size_t e) { return lanes4::Lanes<4>::segmentAny(a, r, b, e); }
void drawNoise(uint32_t k0, uint32_t k1, uint32_t first, float* out, size_t n) { lanes4::Lanes<4>::drawMany(k0, k1, first, out, n); }
#endif
// The 4-lane kernels for the baseline target, whatever the machine: what runs without AVX2/AVX-512,
// called when the op's optional `baseline: true` asks (tests compare it with the default pick).
double stepSegmentBaseline(const StepArgs& a, size_t r, size_t b, size_t e) { return lanes4::Lanes<4>::segmentAny(a, r, b, e); }
void drawNoiseBaseline(uint32_t k0, uint32_t k1, uint32_t first, float* out, size_t n) { lanes4::Lanes<4>::drawMany(k0, k1, first, out, n); }
#else
#error "native/diffusion.cc needs GCC or Clang vector extensions"
#endif

// The optional boolean `baseline` of an op's arguments (absent: false).
bool baselineFlag(OpArgs& a) { return !a.object().Get("baseline").IsUndefined() && a.flag("baseline"); }

void run(const StepArgs& a, bool baseline, double* sums) {
  using Segment = double (*)(const StepArgs&, size_t, size_t, size_t);
  const Segment best = stepSegment, segment = baseline ? stepSegmentBaseline : best;
  const size_t total = a.rows * a.inner, blocks = (total + kBlock - 1) / kBlock;
  // Each block's first and last row segment (rows that may span blocks), added below in block order;
  // rows wholly inside one block are written directly.
  std::vector<double> first(blocks), last(blocks);
  parallel_for(blocks, 2, [&](size_t b0, size_t b1) {
    for (size_t k = b0; k < b1; k++) {
      const size_t b = k * kBlock, e = std::min(total, b + kBlock);
      const size_t r0 = b / a.inner, r1 = (e - 1) / a.inner;
      for (size_t r = r0; r <= r1; r++) {
        const double s = segment(a, r, std::max(b, r * a.inner), std::min(e, (r + 1) * a.inner));
        if (r == r0) first[k] = s;
        else if (r == r1) last[k] = s;
        else sums[r] = s;
      }
    }
  });
  for (size_t k = 0; k < blocks; k++) {
    const size_t b = k * kBlock, e = std::min(total, b + kBlock);
    const size_t r0 = b / a.inner, r1 = (e - 1) / a.inner;
    sums[r0] = b == r0 * a.inner ? first[k] : sums[r0] + first[k];
    if (r1 != r0) sums[r1] = last[k];
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
  const bool baseline = baselineFlag(a);
  return a.queue([s, baseline, sums](Outputs&) {
    run(s, baseline, sums);
  });
}

// rng.ts gaussianNoise: draws of elements [first, first + count) of a step keyed (key0, key1).
Napi::Value DiffusionNoise(const Napi::CallbackInfo& info) {
  OpArgs a(info, "diffusionNoise");
  const uint32_t k0 = static_cast<uint32_t>(a.size("key0")), k1 = static_cast<uint32_t>(a.size("key1"));
  const uint64_t first = a.size("first"), count = a.size("count");
  if (first + count > kMaxU32 + 1) a.range("expected first + count <= 2^32");
  float* out = a.array<float>("out", count);
  using Draw = void (*)(uint32_t, uint32_t, uint32_t, float*, size_t);
  const Draw best = drawNoise, draw = baselineFlag(a) ? drawNoiseBaseline : best;
  return a.queue([=](Outputs&) {
    parallel_for(count, kBlock, [=](size_t b, size_t e) { draw(k0, k1, static_cast<uint32_t>(first + b), out + b, e - b); });
  });
}

}  // namespace

REWARDKIT_OP("diffusionStep", DiffusionStep);
REWARDKIT_OP("diffusionNoise", DiffusionNoise);

}  // namespace rewardkit
