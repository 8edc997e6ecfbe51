// Token log-probs and entropy from logits (lib/logits/logprobs.ts; the JS reference is
// lib/logits/logprobs.ref.ts). One pass per row over the vocabulary, in blocks of kBlock elements:
//   1. widen (bf16 → f32 is bits << 16) and divide by the temperature into an L1-resident buffer,
//      taking the block max and a NaN/+inf flag on the way;
//   2. if the block max exceeds the running max m, rescale the row sums to it (the online softmax);
//   3. add e^(z−m) and e^(z−m)·(z−m), 8 lanes wide (16 on AVX-512, the same sums: logits_row.inc),
//      with a vectorisable exp.
// Precision: z − m and the exp are f32 (the exp is Cephes' expf polynomial, ~1 ulp); each lane sums
// its 64 terms of a block in f32, and the block sums are added in f64. So the error of s and w is
// that of a 64-term f32 sum whatever V is, where one f32 accumulator over 262,144 terms could lose
// ~V·2^-24 (1.6%) in the worst case. The final log/divide run in f64. Never build with -ffast-math.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

namespace rewardkit {
namespace {

constexpr size_t kBlock = 512;
// Elements per thread below which splitting rows over threads is not worth a thread start.
constexpr size_t kMinElementsPerThread = size_t{1} << 16;
constexpr float kInf = std::numeric_limits<float>::infinity();
// e^-87 ≈ 1.6e-38 is the smallest exponent the polynomial's 2^n scaling keeps normal: terms below it
// (and −inf logits) add ≤ 1.6e-38 each where the exact value is 0, against s >= 1 (the max's own term).
constexpr float kMinExponent = -87.0f;

struct RowResult {
  double logp;
  double entropy;
};

// The row's outputs from its statistics, as fromStats() in logprobs.ref.ts.
inline RowResult finishRow(bool bad, float m, double s, double w, float zy) {
  if (bad) return {NAN, NAN};
  if (m == -kInf) return {-INFINITY, NAN};  // every logit −inf: no distribution
  const double logS = std::log(s);
  return {static_cast<double>(zy) - m - logS, logS - w / s};
}

inline float widen(float x) { return x; }
inline float widen(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

#if REWARDKIT_VECTOR
namespace lanes8 {
#include "logits_row.inc"
}  // namespace lanes8
#if defined(__x86_64__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes16 {
#include "logits_row.inc"
}  // namespace lanes16
#pragma GCC pop_options
#endif

// Picked at load time (function multiversioning, see vexp.h): 16 lanes on AVX-512 (x86-64-v4), 8 on
// AVX2 and baseline x86-64, with the same bits.
#if defined(__x86_64__) && !defined(__clang__)
__attribute__((target("default"))) void rowsF32(const float* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  lanes8::rowsF32Of<8>(x, V, T, labels, lp, h, r0, r1);
}
__attribute__((target("avx2"))) void rowsF32(const float* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  lanes8::rowsF32Of<8>(x, V, T, labels, lp, h, r0, r1);
}
__attribute__((target("arch=x86-64-v4"))) void rowsF32(const float* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  lanes16::rowsF32Of<16>(x, V, T, labels, lp, h, r0, r1);
}
__attribute__((target("default"))) void rowsBf16(const uint16_t* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  lanes8::rowsBf16Of<8>(x, V, T, labels, lp, h, r0, r1);
}
__attribute__((target("avx2"))) void rowsBf16(const uint16_t* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  lanes8::rowsBf16Of<8>(x, V, T, labels, lp, h, r0, r1);
}
__attribute__((target("arch=x86-64-v4"))) void rowsBf16(const uint16_t* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  lanes16::rowsBf16Of<16>(x, V, T, labels, lp, h, r0, r1);
}
#else
void rowsF32(const float* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  lanes8::rowsF32Of<8>(x, V, T, labels, lp, h, r0, r1);
}
void rowsBf16(const uint16_t* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  lanes8::rowsBf16Of<8>(x, V, T, labels, lp, h, r0, r1);
}
#endif
#else
// Portable fallback (no vector extensions): the reference's per-element online pass in f64.
template <typename Src, bool kDivide>
inline RowResult row(const Src* x, size_t V, float T, int64_t label) {
  float m = -kInf;
  double s = 0, w = 0;
  bool bad = false;
  for (size_t i = 0; i < V; i++) {
    const float v = kDivide ? widen(x[i]) / T : widen(x[i]);
    if (v > m) {
      if (v == kInf) { bad = true; break; }
      if (s != 0) { const double d = static_cast<double>(m) - v, c = std::exp(d); w = c * (w + s * d); s *= c; }
      m = v;
    } else if (!(v <= m)) { bad = true; break; }
    if (v == -kInf) continue;
    const double d = static_cast<double>(v) - m, e = std::exp(d);
    s += e;
    w += e * d;
  }
  const float zy = label < 0 ? 0.0f : (kDivide ? widen(x[label]) / T : widen(x[label]));
  return finishRow(bad, m, s, w, zy);
}

template <typename Src, bool kDivide>
inline void rowsOf(const Src* x, size_t V, float T, const uint32_t* labels, float* outLogp, float* outEntropy, size_t r0, size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    const RowResult o = row<Src, kDivide>(x + r * V, V, T, labels ? static_cast<int64_t>(labels[r]) : -1);
    if (outLogp) outLogp[r] = static_cast<float>(o.logp);
    if (outEntropy) outEntropy[r] = static_cast<float>(o.entropy);
  }
}
void rowsF32(const float* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  if (T == 1.0f) rowsOf<float, false>(x, V, T, labels, lp, h, r0, r1);
  else rowsOf<float, true>(x, V, T, labels, lp, h, r0, r1);
}
void rowsBf16(const uint16_t* x, size_t V, float T, const uint32_t* labels, float* lp, float* h, size_t r0, size_t r1) {
  if (T == 1.0f) rowsOf<uint16_t, false>(x, V, T, labels, lp, h, r0, r1);
  else rowsOf<uint16_t, true>(x, V, T, labels, lp, h, r0, r1);
}
#endif

}  // namespace

Napi::Value TokenLogProbs(const Napi::CallbackInfo& info) {
  OpArgs a(info, "tokenLogProbs");
  const uint64_t rows = a.size("rows");
  const uint64_t vocab = a.size("vocab", uint64_t{1} << 30);
  if (rows == 0 || vocab == 0) a.range("expected rows >= 1 and vocab >= 1");
  const bool bf16 = a.flag("bf16");
  const uint64_t n = rows * vocab;
  const float* f32 = bf16 ? nullptr : a.array<float>("logitsF32", n);
  const uint16_t* b16 = bf16 ? a.array<uint16_t>("logitsBf16", n) : nullptr;
  const double temperature = a.number("temperature");
  if (!(temperature > 0) || !std::isfinite(temperature)) a.range("expected a finite temperature > 0");
  const float T = static_cast<float>(temperature);
  const Napi::Value labelsValue = a.object().Get("labels");
  const uint32_t* labels = labelsValue.IsNull() || labelsValue.IsUndefined() ? nullptr : a.indices("labels", rows, vocab);
  float* lp = a.optional<float>("outLogProbs", rows);
  float* h = a.optional<float>("outEntropy", rows);
  if (lp && !labels) a.range("expected labels when outLogProbs is given");
  return a.queue([=](Outputs&) {
    // Rows split over threads; parallel_for rounds chunk edges to 64 units, so each row counts as
    // 64 units and every edge falls on a whole row.
    const size_t minRows = (kMinElementsPerThread + vocab - 1) / vocab;
    parallel_for(static_cast<size_t>(rows) * 64, minRows * 64, [&](size_t b, size_t e) {
      if (bf16) rowsBf16(b16, vocab, T, labels, lp, h, b / 64, e / 64);
      else rowsF32(f32, vocab, T, labels, lp, h, b / 64, e / 64);
    });
  });
}

REWARDKIT_OP("tokenLogProbs", TokenLogProbs);

}  // namespace rewardkit
