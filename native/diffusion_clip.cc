// diffusionClipLoss: Flow-GRPO's / DanceGRPO's clipped term fused with the per-step sums that
// flowGrpoLoss and danceGrpoLoss then average (lib/diffusion/loss.ts, loss.ref.ts clipRowsJs +
// clipSumsJs). Per element of [rows, steps]: r = f32(e^(logp − old)) (common/vexp.h's f64 exp, within
// 1 f32 ulp of Math.fround(Math.exp), as diffusionClipRows), the loss term max(−A·r, −A·clamp(r)) and
// ∂/∂logp in f32, the gradient divided by gradScale in f64; per step j the f64 sums over rows of the
// loss term and of f32((logp − old)²), and the counts of |r − 1| > ε, r − 1 > ε, 1 − r > ε. Only ratio
// and the scaled gradient are written (no per-element loss array for the caller to reduce).
// Rows are cut into fixed blocks; each block sums its rows in row order and the block partials are
// added in block order: the same sums for any thread count and vector width (the reference adds the
// rows in one chain: the association differs at block boundaries only). Never build with -ffast-math.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace rewardkit {
namespace {

constexpr size_t kMinPerThread = size_t{1} << 15;
constexpr size_t kChunk = 1016;  // elements per pass (a multiple of 8 below 2^10: the flag counters' width)
constexpr uint32_t kCf = 1, kGt = 1 << 10, kLt = 1 << 20;  // the three clip flags, 10-bit counters in a u32

struct ClipLossArgs {
  size_t n, steps;
  const float *lp, *old, *adv;
  bool advPerRow;  // adv holds one value per row of `steps` elements
  float lo, hi, advClip, clip;
  double gradScale;
  float *ratio, *grad;
  bool baseline;  // the 4-lane baseline kernel whatever the machine
};
// Per step partials, q-major: the loss term, (logp − old)², then the three counts.
constexpr int kTerms = 5;

#if REWARDKIT_VECTOR
template <int N> struct Vec;
template <> struct Vec<4> { typedef v4d D; typedef v4l L; typedef v4f F; typedef v4i I; };
template <> struct Vec<8> { typedef v8d D; typedef v8l L; typedef v8f F; typedef v8i I; };

namespace lanes4 {
#include "diffusion_clip_lanes.inc"
}  // namespace lanes4

#if defined(__x86_64__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes8 {
#include "diffusion_clip_lanes.inc"
}  // namespace lanes8
#pragma GCC pop_options

// Picked at load time (function multiversioning, see vexp.h): 8 lanes on AVX-512, 4 on AVX2 and
// baseline x86-64, the same bits.
__attribute__((target("default"))) void clipChunk(const ClipLossArgs& p, const float* adv, size_t b, size_t n, float* loss, float* sq, uint32_t* fl) {
  lanes4::ClipLanes<4>::chunk(p, adv, b, n, loss, sq, fl);
}
__attribute__((target("avx2"))) void clipChunk(const ClipLossArgs& p, const float* adv, size_t b, size_t n, float* loss, float* sq, uint32_t* fl) {
  lanes4::ClipLanes<4>::chunk(p, adv, b, n, loss, sq, fl);
}
__attribute__((target("arch=x86-64-v4"))) void clipChunk(const ClipLossArgs& p, const float* adv, size_t b, size_t n, float* loss, float* sq, uint32_t* fl) {
  lanes8::ClipLanes<8>::chunk(p, adv, b, n, loss, sq, fl);
}
#else
void clipChunk(const ClipLossArgs& p, const float* adv, size_t b, size_t n, float* loss, float* sq, uint32_t* fl) {
  lanes4::ClipLanes<4>::chunk(p, adv, b, n, loss, sq, fl);
}
#endif
// The 4-lane kernel for the baseline target on any machine (the op's optional `baseline: true`, for tests).
void clipChunkBaseline(const ClipLossArgs& p, const float* adv, size_t b, size_t n, float* loss, float* sq, uint32_t* fl) {
  lanes4::ClipLanes<4>::chunk(p, adv, b, n, loss, sq, fl);
}
#else
#error "native/diffusion_clip.cc needs GCC or Clang vector extensions"
#endif

// Rows [r0, r1) into part (kTerms arrays of `steps`): each chunk's terms added to their steps a row
// segment at a time (so each step's terms arrive in row order); the flags counted per chunk.
void clipBlock(const ClipLossArgs& p, size_t r0, size_t r1, double* part) {
  const size_t steps = p.steps;
  alignas(64) float loss[kChunk], sq[kChunk], advBuf[kChunk];
  alignas(64) uint32_t fl[kChunk];
  std::vector<uint32_t> counts(steps);
  double *sumLoss = part, *sumSq = part + steps, *cf = part + 2 * steps, *gt = part + 3 * steps, *lt = part + 4 * steps;
  using Chunk = void (*)(const ClipLossArgs&, const float*, size_t, size_t, float*, float*, uint32_t*);
  const Chunk best = clipChunk, chunk = p.baseline ? clipChunkBaseline : best;
  const size_t e = r1 * steps;
  for (size_t b = r0 * steps; b < e; b += kChunk) {
    const size_t n = std::min(kChunk, e - b);
    const float* adv = p.adv + b;
    if (p.advPerRow) {  // each row's advantage over its elements of the chunk
      for (size_t j = 0, r = b / steps, s = b % steps; j < n; r++, s = 0) {
        const size_t len = std::min(steps - s, n - j);
        std::fill(advBuf + j, advBuf + j + len, p.adv[r]);
        j += len;
      }
      adv = advBuf;
    }
    chunk(p, adv, b, n, loss, sq, fl);
    std::fill(counts.begin(), counts.end(), 0u);
    for (size_t j = 0, s = b % steps; j < n; s = 0) {
      const size_t len = std::min(steps - s, n - j);
      for (size_t k = 0; k < len; k++) {
        sumLoss[s + k] += static_cast<double>(loss[j + k]);
        sumSq[s + k] += static_cast<double>(sq[j + k]);
        counts[s + k] += fl[j + k];
      }
      j += len;
    }
    for (size_t s = 0; s < steps; s++) {
      cf[s] += counts[s] & 1023;
      gt[s] += (counts[s] >> 10) & 1023;
      lt[s] += counts[s] >> 20;
    }
  }
}

void clipLoss(const ClipLossArgs& p, double* sums) {
  const size_t steps = p.steps, rows = p.n / steps;
  // ~8,192 elements a block; one block when rows are so long that the per-block partials
  // (kTerms·steps each) would outweigh the data.
  const size_t per = steps > 1024 ? rows : std::max<size_t>(1, 8192 / steps);
  const size_t blocks = (rows + per - 1) / per, width = kTerms * steps;
  std::vector<double> part(blocks * width, 0.0);
  parallel_for(blocks, std::max<size_t>(1, kMinPerThread / (per * steps)), [&](size_t k0, size_t k1) {
    for (size_t k = k0; k < k1; k++) clipBlock(p, k * per, std::min(rows, (k + 1) * per), part.data() + k * width);
  });
  for (size_t i = 0; i < width; i++) {
    double s = 0;
    for (size_t k = 0; k < blocks; k++) s += part[k * width + i];
    sums[i] = s;
  }
}

Napi::Value DiffusionClipLoss(const Napi::CallbackInfo& info) {
  OpArgs a(info, "diffusionClipLoss");
  ClipLossArgs p{};
  p.n = a.size("n");
  p.steps = a.size("steps");
  if (p.steps == 0 || p.n == 0 || p.n % p.steps != 0) a.range("expected n > 0, a multiple of steps > 0");
  p.lp = a.array<float>("logProb", p.n);
  p.old = a.array<float>("oldLogProb", p.n);
  p.advPerRow = a.flag("advPerRow");
  p.adv = a.array<float>("advantages", p.advPerRow ? p.n / p.steps : p.n);
  p.lo = static_cast<float>(a.number("lo"));
  p.hi = static_cast<float>(a.number("hi"));
  p.advClip = static_cast<float>(a.number("advClip"));
  p.clip = static_cast<float>(a.number("clip"));
  p.gradScale = a.number("gradScale");
  p.ratio = a.array<float>("ratio", p.n);
  p.grad = a.array<float>("grad", p.n);
  double* sums = a.array<double>("sums", kTerms * p.steps);
  p.baseline = !a.object().Get("baseline").IsUndefined() && a.flag("baseline");
  return a.queue([=](Outputs&) { clipLoss(p, sums); });
}

}  // namespace

REWARDKIT_OP("diffusionClipLoss", DiffusionClipLoss);

}  // namespace rewardkit
