// Vectorised exp for the per-token and per-logit kernels (loss.cc, kl.cc, logits.cc), with GCC/Clang
// vector extensions (no intrinsics: the same code builds for SSE2, AVX2 and AVX-512, 8 or 16 lanes).
//
// Three flavours, because the kernels need different things:
// - vexpfModerate / vexpf (v8f or v16f): Cephes expf in f32, 8 or 16 lanes, within 1 ulp of the correctly rounded
//   e^x (checked over every f32 in [−104, 89]: 0.8% of inputs are 1 ulp off, none more), as torch's
//   vectorised expf that verl/TRL run. The per-token loss and KL kernels (loss.cc vanilla, kl.cc):
//   ~25 instructions per 8 tokens where the f64 route below costs ~100 per 4, so those loops move
//   data at 2–3.5× memcpy time instead of 5–10×. vexpfModerate needs |x| <= 87 (callers clamp to ±20);
//   vexpf takes any x (NaN, ±inf, overflow, subnormal results).
// - vexpRounded(v4f x) = f32(e^x computed in f64): what the JS references write as
//   Math.fround(Math.exp(x)). The f64 polynomial is within ~2 ulp of f64, so its f32 rounding differs
//   from V8's only when e^x lies within a few f64 ulps of an f32 rounding midpoint (~2^-27 of
//   inputs): for a kernel that must keep the reference's bits.
// - vexpfNonPositive(F d): Cephes expf for d in [−87, 0] (the logits kernel's shifted logits).
//
// Usage rules (learnt the hard way): every function taking or returning a vector type is
// always_inline, so no vector crosses a call ABI and each target clone compiles its own copy; mark
// the outer kernel REWARDKIT_CLONES (AVX2 + baseline x86-64, picked at load time). Never use
// __attribute__((optimize)): it replaces -O3 for that function. Never build with -ffast-math: the
// rounding trick below and the kernels' NaN selects rely on IEEE semantics.
#pragma once

#if defined(__GNUC__)
#define REWARDKIT_VECTOR 1

#include <cstdint>
#include <cstring>

namespace rewardkit {

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4l __attribute__((vector_size(32)));
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
typedef double v8d __attribute__((vector_size(64)));
typedef int64_t v8l __attribute__((vector_size(64)));
// The lane-mask type of a float vector (−1 / 0 per lane), as its comparisons return.
template <typename F>
using IntOf = decltype(F{} < F{});

#define RK_INLINE inline __attribute__((always_inline))
#pragma GCC diagnostic ignored "-Wpsabi"  // vector arguments: all inlined, no ABI is used

#if defined(__x86_64__) && !defined(__clang__)
#define REWARDKIT_CLONES __attribute__((target_clones("avx2", "default")))
// 16-lane (AVX-512) kernels cannot be target_clones (the clones share one body, so one lane count):
// loss.cc and logits.cc include their kernel twice, the second time under
// `#pragma GCC target("arch=x86-64-v4")`, and pick it with function multiversioning (target("default"),
// target("avx2"), target("arch=x86-64-v4") overloads). x86-64-v4, not just avx512f: AVX512DQ/BW turn
// k-masks back into lane masks. Every helper holding a comparison must be defined inside that pragma:
// GCC 12 scalarises a 16-lane select on a comparison, lane by lane, in a helper defined for another
// target even when it is inlined into an AVX-512 function (measured: 4× slower than the AVX2 kernel).
#else
#define REWARDKIT_CLONES
#endif

// The f32 vector of N lanes (8 or 16).
template <int N> struct LanesOf;
template <> struct LanesOf<8> { typedef v8f F; };
template <> struct LanesOf<16> { typedef v16f F; };
template <typename F>
constexpr int lanes() { return sizeof(F) / sizeof(float); }

template <typename F>
RK_INLINE F splat(float x) {
  F v;
  for (int i = 0; i < lanes<F>(); i++) v[i] = x;
  return v;
}
template <typename F>
RK_INLINE F pick(IntOf<F> m, F a, F b) { return m ? a : b; }

RK_INLINE v8f splat8(float x) { return v8f{x, x, x, x, x, x, x, x}; }
RK_INLINE v4f splat4(float x) { return v4f{x, x, x, x}; }
RK_INLINE v4d splat4d(double x) { return v4d{x, x, x, x}; }

// Unaligned loads and stores (memcpy compiles to one vector move).
// 64-byte vectors go through an unaligned may_alias type: GCC calls memcpy for a 64-byte copy.
typedef float v16fu __attribute__((vector_size(64), aligned(4), may_alias));
template <typename V, typename T>
RK_INLINE V load(const T* p) {
  if constexpr (sizeof(V) == 64) {
    return (V) * reinterpret_cast<const v16fu*>(p);
  } else {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
}
template <typename V, typename T>
RK_INLINE void store(T* p, V v) {
  if constexpr (sizeof(V) == 64) *reinterpret_cast<v16fu*>(p) = (v16fu)v;
  else std::memcpy(p, &v, sizeof v);
}

// 4 mask bytes → lanes of −1 (trained) / 0; a null mask is all trained.
RK_INLINE v4i maskLanes(const uint8_t* m) {
  if (m == nullptr) return v4i{-1, -1, -1, -1};
  return v4i{m[0] != 0 ? -1 : 0, m[1] != 0 ? -1 : 0, m[2] != 0 ? -1 : 0, m[3] != 0 ? -1 : 0};
}
RK_INLINE v4l wide(v4i m) { return __builtin_convertvector(m, v4l); }  // f32 lane mask → f64 lane mask
RK_INLINE v4d widen(v4f x) { return __builtin_convertvector(x, v4d); }
RK_INLINE v4f narrow(v4d x) { return __builtin_convertvector(x, v4f); }  // round to nearest, as a cast
RK_INLINE double hsum(v4d v) { return (v[0] + v[1]) + (v[2] + v[3]); }  // fixed order

// e^x in f64 for any x (NaN → NaN, > 708 → +inf, < −708 → 0). Round x·log2e to n with the
// 1.5·2^52 trick (no rounding-mode instruction), r = x − n·ln2 in two parts (fdlibm's split, so
// n·ln2hi is exact), e^r by its Taylor series to degree 12 (|r| <= ln2/2: truncation 1.7e-16,
// below half an f64 ulp),
// then scale by 2^n built in the exponent bits.
RK_INLINE v4d vexp(v4d x) {
  const v4d lim = splat4d(708.0);
  v4d xc = x > lim ? lim : x;
  xc = xc < -lim ? -lim : xc;
  const v4d t = xc * 1.4426950408889634 + 6755399441055744.0;
  const v4d n = t - 6755399441055744.0;
  const v4d r = (xc - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
  // p = Σ r^k/(k+2)! for k = 0..10 by Estrin's scheme: a dependency chain of ~6 operations where
  // Horner's has 20, which kept the loops latency-bound (measured: 2.5× the CPU time per token).
  const v4d r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const v4d q0 = 1.0 / 2 + r * (1.0 / 6), q1 = 1.0 / 24 + r * (1.0 / 120), q2 = 1.0 / 720 + r * (1.0 / 5040);
  const v4d q3 = 1.0 / 40320 + r * (1.0 / 362880), q4 = 1.0 / 3628800 + r * (1.0 / 39916800);
  const v4d s0 = q0 + q1 * r2, s1 = q2 + q3 * r2, s2 = q4 + r2 * (1.0 / 479001600);
  const v4d p = (s0 + s1 * r4) + s2 * r8;
  const v4d y = 1.0 + (r + r2 * p);
  const v4l scale = (((v4l)t - 0x4338000000000000LL) + 1023) << 52;  // bits of t hold 1.5·2^52 + n
  v4d e = y * (v4d)scale;
  e = x > lim ? splat4d(__builtin_inf()) : e;
  e = x < -lim ? splat4d(0.0) : e;
  return x != x ? x : e;
}

// Math.fround(Math.exp(x)) for 4 f32 lanes.
RK_INLINE v4f vexpRounded(v4f x) { return narrow(vexp(widen(x))); }

// 8 mask bytes → lanes of −1 (trained) / 0 (one zero-extending load); a null mask is all trained.
RK_INLINE v8i maskLanes8(const uint8_t* m) {
  if (m == nullptr) return v8i{-1, -1, -1, -1, -1, -1, -1, -1};
  // Lane j tests byte j%4 of word j/4 (__builtin_convertvector of 8 bytes compiles to scalar inserts).
  uint32_t w[2];
  std::memcpy(w, m, 8);
  const v8i words = v8i{(int32_t)w[0], (int32_t)w[0], (int32_t)w[0], (int32_t)w[0], (int32_t)w[1], (int32_t)w[1], (int32_t)w[1], (int32_t)w[1]};
  const int32_t b3 = (int32_t)0xff000000u;
  return (words & v8i{0xff, 0xff00, 0xff0000, b3, 0xff, 0xff00, 0xff0000, b3}) != 0;  // little-endian x86
}
RK_INLINE v8f pick8(v8i m, v8f a, v8f b) { return m ? a : b; }
// Per-lane f64 partial sums of 8 f32 lanes (the low and high halves), added in a fixed order.
struct Sum8 {
  v4d lo = splat4d(0), hi = splat4d(0);
  RK_INLINE void add(v8f x) {
    // One 8-lane conversion: GCC splits a 4-lane v4f → v4d one into 2-lane pieces and spills.
    const v8d d = __builtin_convertvector(x, v8d);
    lo += __builtin_shufflevector(d, d, 0, 1, 2, 3);
    hi += __builtin_shufflevector(d, d, 4, 5, 6, 7);
  }
  RK_INLINE double total() const { return hsum(lo) + hsum(hi); }
};
// The same sums for 16 lanes: lanes 0–7 then 8–15 added into 8 per-lane f64 sums, so every sum
// sees the same terms in the same order as Sum8 fed 8 lanes at a time (bit-identical totals).
struct Sum16 {
  v8d acc = v8d{};
  RK_INLINE void add(v16f x) {
    acc += __builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7), v8d);
    acc += __builtin_convertvector(__builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15), v8d);
  }
  RK_INLINE double total() const {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  }
};
template <typename F> struct SumOf;
template <> struct SumOf<v8f> { typedef Sum8 T; };
template <> struct SumOf<v16f> { typedef Sum16 T; };

// 16 mask bytes → lanes of 0 (untrained) / nonzero (one zero-extending load); null: all trained.
RK_INLINE v16i maskLanes16(const uint8_t* m) {
  if (m == nullptr) return v16i{} + 1;
  // Word j/4 broadcast to lane j, byte j%4 kept (one load, one permute, one and): GCC 12 compiles
  // __builtin_convertvector of 16 bytes to scalar extracts and inserts, and a `!= 0` here crashes
  // GCC 12 (internal compiler error) once inlined into kl.cc's selects.
  const v4i w = load<v4i>(m);
  const v16i words = __builtin_shufflevector(w, w, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const int32_t b3 = (int32_t)0xff000000u;
  return (words & v16i{0xff, 0xff00, 0xff0000, b3, 0xff, 0xff00, 0xff0000, b3,
                       0xff, 0xff00, 0xff0000, b3, 0xff, 0xff00, 0xff0000, b3});  // little-endian x86
}
// Lane masks for F: nonzero where trained (test with `!= 0`).
template <typename F>
RK_INLINE IntOf<F> maskLanesOf(const uint8_t* m) {
  if constexpr (lanes<F>() == 8) return maskLanes8(m);
  else return maskLanes16(m);
}

// The Cephes expf core (Moshier's Cephes Math Library, expf.c): n = round(x·log2e) by the 1.5·2^23
// trick (the bits of t hold 1.5·2^23 + n), r = x − n·ln2 in two parts (n·C1 exact), e^r by a
// degree-5 polynomial on |r| <= ln2/2. Valid for |x| <= 2^21; NaN passes through every step.
template <typename F>
RK_INLINE F expfCore(F x, F& t) {
  t = x * 1.44269504088896341f + 12582912.0f;
  const F n = t - 12582912.0f;
  F r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F p = splat<F>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * (r * r) + r + 1.0f;
}

// e^x in f32 for x in [−87, 87] or NaN (callers clamp first; the token kernels clamp to ±20):
// within 1 ulp of the correctly rounded e^x (measured over every f32 in [−87, 87]: see docs/losses.md),
// the accuracy of torch's vectorised expf that the reference implementations use.
template <typename F>
RK_INLINE F vexpfModerate(F x) {
  F t;
  const F y = expfCore(x, t);
  return y * (F)(((IntOf<F>)t << 23) + (127 << 23));  // (1.5·2^23 + n) << 23 = n << 23: the bits of 2^n
}

// e^x in f32 for every x, as Math.fround(Math.exp(x)) up to the core's 1 ulp: NaN → NaN, x > 88.73 →
// +inf, subnormal results rounded once, x < −103.98 → 0. x is clamped to [−104, 89] (NaN passes) and
// 2^n applied in two halves so both factors stay normal.
template <typename F>
RK_INLINE F vexpf(F x) {
  F xc = x > 89.0f ? splat<F>(89.0f) : x;
  xc = xc < -104.0f ? splat<F>(-104.0f) : xc;
  F t;
  const F y = expfCore(xc, t);
  const IntOf<F> n = (IntOf<F>)t - 0x4B400000, n1 = n >> 1, n2 = n - n1;
  return (y * (F)((n1 + 127) << 23)) * (F)((n2 + 127) << 23);
}

// e^d for d in [−87, 0] in f32 (the logits kernel's shifted logits): vexpfModerate under the name
// its callers use; callers clamp d to >= −87 (the smallest exponent the 2^n scaling keeps normal).
template <typename F>
RK_INLINE F vexpfNonPositive(F d) {
  return vexpfModerate(d);
}

}  // namespace rewardkit

#else
#define REWARDKIT_VECTOR 0
#define RK_INLINE inline
#define REWARDKIT_CLONES
#endif
