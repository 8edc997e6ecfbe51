// Masked statistics over a token layout (verl masked_sum/mean/var/whiten): plain C++ kernels shared
// by masked.cc (the public masked ops) and token.cc (the whitening of REINFORCE++ and GAE). Sums run
// in double over the trained tokens only (a bit select, so NaN/Inf on padding never enters).
//
// Moments are taken per span (a row, or a fixed block of at most kSpan tokens) in one pass around a
// shift (the span's first trained value; error bound at spanMoments), and spans are combined in a
// fixed order with Chan's update (m2 += m2_b + δ²·n·n_b/(n + n_b)): one pass over memory instead of
// two, close to a two-pass variance's accuracy, and a result that does not depend on the thread count.
//
// The block loops are written with 4-lane vectors (GCC/Clang vector extensions, a plain struct
// elsewhere) because GCC will not vectorise an f64 reduction itself without -ffast-math, which we
// never use: the lane order is fixed, so the rounding is the same on every compiler and thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // 32-byte vectors by value: only inside always-inline helpers
#endif
#if defined(__GNUC__)
#define REWARDKIT_INLINE inline __attribute__((always_inline))
#else
#define REWARDKIT_INLINE inline
#endif
// Hot loops built twice (AVX2 and baseline x86-64), picked at load time. Helpers are always-inline
// so each clone gets its own vector code.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define REWARDKIT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define REWARDKIT_CLONES
#endif

namespace rewardkit {

// ---- 4-lane vectors -------------------------------------------------------------------------------
#if defined(__GNUC__)
typedef double D4 __attribute__((vector_size(32)));
typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));
typedef uint8_t B4 __attribute__((vector_size(4)));
REWARDKIT_INLINE D4 splat(double x) { return D4{x, x, x, x}; }
REWARDKIT_INLINE I4 zeroI4() { return I4{0, 0, 0, 0}; }
// Element-wise forms, not __builtin_convertvector: GCC 12 splits those into halves, these become one
// vcvtps2pd / vcvtdq2pd / vcvtpd2ps / vpmovzxbd each.
REWARDKIT_INLINE D4 toD4(F4 f) { return D4{f[0], f[1], f[2], f[3]}; }
REWARDKIT_INLINE D4 toD4(I4 i) { return D4{double(i[0]), double(i[1]), double(i[2]), double(i[3])}; }
REWARDKIT_INLINE F4 toF4(D4 d) { return F4{float(d[0]), float(d[1]), float(d[2]), float(d[3])}; }
/** -1 where the mask byte is nonzero, 0 elsewhere. */
REWARDKIT_INLINE I4 laneMask(const uint8_t* m) {
  B4 b;
  std::memcpy(&b, m, 4);
  const I4 w = {b[0], b[1], b[2], b[3]};
  return w != 0;
}
#else
template <typename T>
struct V4 {
  T v[4];
  T operator[](int i) const { return v[i]; }
};
#define REWARDKIT_V4_OP(op)                                                              \
  template <typename T>                                                                  \
  inline V4<T> operator op(V4<T> a, V4<T> b) {                                           \
    return V4<T>{{a.v[0] op b.v[0], a.v[1] op b.v[1], a.v[2] op b.v[2], a.v[3] op b.v[3]}}; \
  }                                                                                      \
  template <typename T>                                                                  \
  inline V4<T>& operator op##=(V4<T>& a, V4<T> b) { return a = a op b; }
REWARDKIT_V4_OP(+)
REWARDKIT_V4_OP(-)
REWARDKIT_V4_OP(*)
#undef REWARDKIT_V4_OP
typedef V4<double> D4;
typedef V4<float> F4;
typedef V4<int32_t> I4;
inline D4 splat(double x) { return D4{{x, x, x, x}}; }
inline I4 zeroI4() { return I4{{0, 0, 0, 0}}; }
inline D4 toD4(F4 f) { return D4{{f.v[0], f.v[1], f.v[2], f.v[3]}}; }
inline D4 toD4(I4 i) { return D4{{double(i.v[0]), double(i.v[1]), double(i.v[2]), double(i.v[3])}}; }
inline F4 toF4(D4 d) { return F4{{float(d.v[0]), float(d.v[1]), float(d.v[2]), float(d.v[3])}}; }
inline I4 laneMask(const uint8_t* m) { return I4{{-(m[0] != 0), -(m[1] != 0), -(m[2] != 0), -(m[3] != 0)}}; }
inline I4 operator&(I4 a, I4 b) { return I4{{a.v[0] & b.v[0], a.v[1] & b.v[1], a.v[2] & b.v[2], a.v[3] & b.v[3]}}; }
inline I4 operator~(I4 a) { return I4{{~a.v[0], ~a.v[1], ~a.v[2], ~a.v[3]}}; }
#endif

REWARDKIT_INLINE F4 loadF4(const float* p) {
  F4 f;
  std::memcpy(&f, p, sizeof f);
  return f;
}
REWARDKIT_INLINE void storeF4(float* p, F4 f) { std::memcpy(p, &f, sizeof f); }

/** f where the lane mask is set, +0 elsewhere (bits: NaN/Inf never survive). */
REWARDKIT_INLINE F4 selectF4(F4 f, I4 on) {
  I4 bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits = bits & on;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
REWARDKIT_INLINE double hsum(D4 a, D4 b, D4 c, D4 d) {
  const D4 s = (a + b) + (c + d);
  return (s[0] + s[1]) + (s[2] + s[3]);
}
/** float bits & −(m != 0): v on trained tokens, +0 elsewhere. */
REWARDKIT_INLINE float selectTrained(float v, uint8_t m) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= -static_cast<uint32_t>(m != 0);
  std::memcpy(&v, &bits, sizeof bits);
  return v;
}

// ---- moments ----------------------------------------------------------------------------------------
struct Moments {
  double count = 0;  // Σ m
  double sum = 0;    // Σ v over trained tokens
  double m2 = 0;     // Σ (v − sum/count)² over trained tokens
};

/** Chan's combination of two disjoint blocks' moments (a then b: the order is fixed by the caller). */
inline Moments combine(const Moments& a, const Moments& b) {
  if (b.count == 0) return a;
  if (a.count == 0) return b;
  const double n = a.count + b.count, d = b.sum / b.count - a.sum / a.count;
  return Moments{n, a.sum + b.sum, a.m2 + b.m2 + d * d * (a.count * b.count / n)};
}

/** Σ (v − mean)² over trained tokens around any mean (verl divides the sum by Σm + 1e-8, OpenRLHF by Σm). */
inline double squaresAbout(const Moments& mm, double mean) {
  if (mm.count == 0) return 0;
  const double d = mm.sum / mm.count - mean;
  return mm.m2 + mm.count * d * d;
}

/**
 * Moments of x[0, n) over trained tokens (m null: all) in one pass, around a shift c = the span's
 * first trained value: Σ(v − c) and Σ(v − c)², then m2 = Σ(v − c)² − (Σ(v − c))²/n. Because c is one
 * of the values, n·(mean − c)² <= (n − 1)·m2, so the subtraction loses at most a factor n of the
 * sum's relative error: m2 within ~n²·2^-53 relative (2e-9 for the n <= kSpan = 4096 the callers
 * pass; random rounding makes it ~n·2^-53 in practice), far inside the f32 results' 2^-24.
 */
REWARDKIT_INLINE Moments spanMoments(const float* x, const uint8_t* m, size_t n) {
  size_t first = 0;
  if (m)
    while (first < n && !m[first]) first++;
  if (first == n) return Moments{};
  const double c = x[first];
  const I4 all = ~zeroI4();
  const D4 cv = splat(c);
  D4 s0 = splat(0), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  I4 c0 = zeroI4(), c1 = c0, c2 = c0, c3 = c0;
  size_t k = 0;
  // Untrained lanes: v = +0 (bit select) and c·0 = 0, so d = 0 there (c is finite when v is).
#define REWARDKIT_LANE(j)                                                            \
  {                                                                                  \
    const I4 o = m ? laneMask(m + k + 4 * j) : all;                                  \
    const D4 d = toD4(selectF4(loadF4(x + k + 4 * j), o)) - cv * toD4(zeroI4() - o); \
    s##j += d;                                                                       \
    q##j += d * d;                                                                   \
    c##j -= o;                                                                       \
  }
  for (; k + 16 <= n; k += 16) {
    REWARDKIT_LANE(0)
    REWARDKIT_LANE(1)
    REWARDKIT_LANE(2)
    REWARDKIT_LANE(3)
  }
#undef REWARDKIT_LANE
  double sd = hsum(s0, s1, s2, s3), sq = hsum(q0, q1, q2, q3);
  const I4 cs = (c0 + c1) + (c2 + c3);
  size_t count = static_cast<size_t>(cs[0]) + static_cast<size_t>(cs[1]) + static_cast<size_t>(cs[2]) + static_cast<size_t>(cs[3]);
  for (; k < n; k++) {
    if (m && !m[k]) continue;
    const double d = static_cast<double>(x[k]) - c;
    sd += d;
    sq += d * d;
    count++;
  }
  const double nn = static_cast<double>(count), m2 = sq - sd * (sd / nn);
  return Moments{nn, sd + nn * c, m2 > 0 ? m2 : 0};
}

/** Moments of x[0, n) in spans of kSpan tokens combined in order (any n; the same result for any caller). */
constexpr size_t kSpan = 4096;
REWARDKIT_INLINE Moments rangeMoments(const float* x, const uint8_t* m, size_t n) {
  Moments r;
  for (size_t k = 0; k < n; k += kSpan) {
    const size_t len = n - k < kSpan ? n - k : kSpan;
    r = combine(r, spanMoments(x + k, m ? m + k : nullptr, len));
  }
  return r;
}

/** Whole-batch moments of v[0, tokens) (mask null = every token trained), spans in parallel. */
Moments masked_moments(const float* v, const uint8_t* mask, size_t tokens);

/** out[i] = the moments of row i of x (offsets: CSR) for i in [r0, r1). */
void row_moments(const float* x, const uint8_t* mask, const uint32_t* offsets, size_t r0, size_t r1, Moments* out);

/** out[t] = (v[t] − mean)·scale + add for every token; where zeroUntrained and m[t] = 0, out[t] = 0. out may alias v. */
void masked_apply(float* out, const float* v, const uint8_t* mask, size_t tokens, double mean, double scale, double add, bool zeroUntrained);

/** verl's Σm + 1e-8 held in f32 (maskDenominator() in masked.ref.ts; exactly Σm for Σm >= 1). */
inline double verlDenominator(double count) { return static_cast<double>(static_cast<float>(count + 1e-8)); }

}  // namespace rewardkit
