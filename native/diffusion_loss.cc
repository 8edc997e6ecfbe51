// Diffusion-RL losses (SPEC.md §3.3): a line-by-line mirror of lib/diffusion/loss.ref.ts.
// diffusionClipRows: the PPO-clipped term of Flow-GRPO / DanceGRPO per element of [B] or [B, steps]
// (f32 operations as torch's; exp in double rounded once, as Math.fround(Math.exp(x))).
// latentSqRows: per row, the sum of squared differences of two latent tensors — the big-data part
// (Flow-GRPO's latent KL reads two [B, C, H, W] tensors). Rows are split over threads when there
// are many; a long row is split into fixed 64-aligned chunks whose f64 partials are added in order,
// so the result does not depend on the thread count. Never build with -ffast-math (NaN semantics).
// With GCC/Clang both loops run 4 lanes at a time (common/vexp.h's f64 exp, branch-free selects; the
// row sums keep 8 f64 partials combined in a fixed order), so they stay memory-bound.
// diffusionClipLoss (the clipped term fused with its per-step sums) is in diffusion_clip.cc.
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

namespace rewardkit {
namespace {

constexpr size_t kMinPerThread = size_t{1} << 15;
constexpr size_t kPiece = size_t{1} << 14;  // elements per partial sum of a row

inline void clipOne(size_t i, const float* lp, const float* old, const float* adv, float lo, float hi, float advClip,
                    float* ratio, float* loss, float* grad) {
  const float r = static_cast<float>(std::exp(static_cast<double>(lp[i] - old[i])));
  const float a0 = adv[i];
  const float a = a0 < -advClip ? -advClip : (a0 > advClip ? advClip : a0);  // NaN passes
  const float rc = r < lo ? lo : (r > hi ? hi : r);
  const float u = -a * r;
  const float c = -a * rc;
  const bool nan = std::isnan(u) || std::isnan(c);
  ratio[i] = r;
  loss[i] = nan ? NAN : (u > c ? u : c);
  grad[i] = nan ? NAN : (((r >= lo && r <= hi) || u > c) ? u : 0.0f);
}

REWARDKIT_CLONES void clipChunk(size_t b, size_t e, const float* lp, const float* old, const float* adv, float lo, float hi,
                                float advClip, float* ratio, float* loss, float* grad) {
  size_t i = b;
#if REWARDKIT_VECTOR
  const v4f vlo = splat4(lo), vhi = splat4(hi), vc = splat4(advClip), nan = splat4(NAN), zero = splat4(0.0f);
  for (; i + 4 <= e; i += 4) {
    const v4f r = vexpRounded(load<v4f>(lp + i) - load<v4f>(old + i));
    const v4f a0 = load<v4f>(adv + i);
    const v4f a = a0 < -vc ? -vc : (a0 > vc ? vc : a0);  // NaN passes: both compares are false
    const v4f rc = r < vlo ? vlo : (r > vhi ? vhi : r);
    const v4f u = -a * r, c = -a * rc;
    const v4i bad = (u != u) | (c != c);
    store(ratio + i, r);
    store(loss + i, bad ? nan : (u > c ? u : c));
    store(grad + i, bad ? nan : (((r >= vlo) & (r <= vhi)) | (u > c) ? u : zero));
  }
#endif
  for (; i < e; i++) clipOne(i, lp, old, adv, lo, hi, advClip, ratio, loss, grad);
}

void clipRows(size_t n, const float* lp, const float* old, const float* adv, float lo, float hi, float advClip,
              float* ratio, float* loss, float* grad) {
  parallel_for(n, kMinPerThread, [=](size_t b, size_t e) { clipChunk(b, e, lp, old, adv, lo, hi, advClip, ratio, loss, grad); });
}

REWARDKIT_CLONES double pieceSum(const float* a, const float* b, size_t begin, size_t end) {
  size_t i = begin;
  double s = 0;
#if REWARDKIT_VECTOR
  v4d s0 = splat4d(0.0), s1 = splat4d(0.0);
  for (; i + 8 <= end; i += 8) {
    const v4f d0 = load<v4f>(a + i) - load<v4f>(b + i), d1 = load<v4f>(a + i + 4) - load<v4f>(b + i + 4);
    s0 += widen(d0 * d0);
    s1 += widen(d1 * d1);
  }
  s = hsum(s0) + hsum(s1);
#endif
  for (; i < end; i++) {
    const float d = a[i] - b[i];
    s += static_cast<double>(d * d);
  }
  return s;
}

void latentRows(size_t rows, size_t cols, const float* a, const float* b, double* out) {
  // Work items: (row, piece) pairs; each piece's f64 partial is kept, then added per row in order.
  const size_t pieces = cols == 0 ? 0 : (cols + kPiece - 1) / kPiece;
  std::vector<double> partial(rows * pieces);
  parallel_for(rows * pieces, std::max<size_t>(1, kMinPerThread / kPiece), [&](size_t s, size_t e) {
    for (size_t w = s; w < e; w++) {
      const size_t r = w / pieces, k = w % pieces;
      const size_t begin = r * cols + k * kPiece;
      const size_t end = r * cols + std::min(cols, (k + 1) * kPiece);
      partial[w] = pieceSum(a, b, begin, end);
    }
  });
  for (size_t r = 0; r < rows; r++) {
    double s = 0;
    for (size_t k = 0; k < pieces; k++) s += partial[r * pieces + k];
    out[r] = s;
  }
}

Napi::Value DiffusionClipRows(const Napi::CallbackInfo& info) {
  OpArgs a(info, "diffusionClipRows");
  const uint64_t n = a.size("n");
  const float* lp = a.array<float>("logProb", n);
  const float* old = a.array<float>("oldLogProb", n);
  const float* adv = a.array<float>("advantages", n);
  const float lo = static_cast<float>(a.number("lo"));
  const float hi = static_cast<float>(a.number("hi"));
  const float advClip = static_cast<float>(a.number("advClip"));
  float* ratio = a.array<float>("ratio", n);
  float* loss = a.array<float>("loss", n);
  float* grad = a.array<float>("grad", n);
  return a.queue([=](Outputs&) { clipRows(n, lp, old, adv, lo, hi, advClip, ratio, loss, grad); });
}

Napi::Value LatentSqRows(const Napi::CallbackInfo& info) {
  OpArgs a(info, "latentSqRows");
  const uint64_t rows = a.size("rows");
  const uint64_t cols = a.size("cols", uint64_t{1} << 52);
  if (rows != 0 && cols > (uint64_t{1} << 52) / rows) a.range("rows*cols is too large");
  const float* x = a.array<float>("a", rows * cols);
  const float* y = a.array<float>("b", rows * cols);
  double* out = a.array<double>("out", rows);
  return a.queue([=](Outputs&) { latentRows(rows, cols, x, y, out); });
}

}  // namespace

REWARDKIT_OP("diffusionClipRows", DiffusionClipRows);
REWARDKIT_OP("latentSqRows", LatentSqRows);

}  // namespace rewardkit
