// Reward heads (lib/scoring/heads.ts; the JS reference is lib/scoring/heads.ref.ts).
//
// Every head is one form: score_k = c_k + Σ_{n ∈ head k} w2[n]·act_k(W1[n]·h + b1[n]), where the
// columns n of all K heads are concatenated (a linear head is one column, identity, w2 = 1). The
// first layer is one GEMM Z[B, N] = A[B, H]·W1[N, H]ᵀ, computed in blocks and never stored whole:
//
//   for each super-chunk of columns (≤ 16 MiB of W1): pack it once into NR-column panels [H][NR];
//     for each block of MC rows (split over threads):
//       for each chunk of NC columns:  C[MC, NC] = 0
//         for each KC slice of H: pack A[MC, KC] into MR-row panels (f16/bf16 widened here),
//           C += the MR×NR micro-kernel over every (row panel, column panel) pair (FMA, f32)
//         epilogue: acc[b, k] += w2[n]·act(C[b, n] + b1[n]) in double, columns in order.
// The micro-kernel and its tile are picked once for the CPU (pickGemm): 8×32 on AVX-512, 6×16 on
// AVX2, a portable 6×16 elsewhere. The tile, MC and NC change the speed, never the bits.
//
// Precision: each z is an f32 sum over H, accumulated per KC = 256 slice in the micro-kernel's
// registers and then into C (f32), so |Δz| ≤ ~H·2^-24·Σ_j|W1[n,j]·h_j| (typically far less);
// bias, activation (GELU = exact erf), w2 and the head sums run in double; the score is rounded to
// f32 once. Mean pooling sums the masked tokens in double and stores the mean in f32. The result
// does not depend on the thread count: every (row, head) sum is added in column order by one thread.
// Never -ffast-math.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RK_X86 1
#endif

namespace rewardkit {
namespace {

// Blocking that does not depend on the micro-kernel. KC is part of the result, not only of the speed:
// every z is summed per KC slice in registers, then the slices are added into C in order, so a
// different KC would round differently. The tile (MR×NR) and NC/MC are per kernel (see Gemm).
constexpr size_t KC = 256;
constexpr size_t SUPER_BYTES = size_t{16} << 20;  // packed W1 per pass; see the scratch in scoreHeads

enum Dtype { kF32 = 0, kF16 = 1, kBf16 = 2 };
enum Act { kIdentity = 0, kSilu = 1, kGelu = 2, kRelu = 3, kTanh = 4 };

const float* f16Table() {
  static const std::unique_ptr<float[]> table = [] {
    std::unique_ptr<float[]> t(new float[65536]);
    for (uint32_t h = 0; h < 65536; h++) {
      const uint32_t s = (h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
      uint32_t bits;
      if (e == 0) {  // zero or subnormal: m·2^-24, exact in f32
        float f = static_cast<float>(m) * 5.9604644775390625e-8f;
        std::memcpy(&bits, &f, 4);
        bits |= s;
      } else if (e == 31) {
        bits = s | 0x7f800000u | (m << 13);
      } else {
        bits = s | ((e + 112) << 23) | (m << 13);
      }
      std::memcpy(&t[h], &bits, 4);
    }
    return t;
  }();
  return table.get();
}

inline float bf16(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels: C[MR×NR] (row stride ldc) += Ap[kc][MR] · Bp[kc][NR]. Every one sums each z over
// its kc values in k order from 0 in a register, then adds that to C: only the tile differs, so the
// SIMD kernels give the same bits (the portable one rounds a·b before the add: no FMA).

template <size_t MR, size_t NR>
void kernelPortable(size_t kc, const float* a, const float* b, float* c, size_t ldc) {
  float acc[MR][NR] = {};
  for (size_t k = 0; k < kc; k++, a += MR, b += NR) {
    for (size_t i = 0; i < MR; i++) {
      const float ai = a[i];
      for (size_t j = 0; j < NR; j++) acc[i][j] += ai * b[j];
    }
  }
  for (size_t i = 0; i < MR; i++)
    for (size_t j = 0; j < NR; j++) c[i * ldc + j] += acc[i][j];
}

#ifdef RK_X86
// 6×16: 12 ymm accumulators (of 16 registers) cover 2 FMA ports × 4-5 cycles of latency.
__attribute__((target("avx2,fma"))) void kernelAvx2(size_t kc, const float* a, const float* b, float* c, size_t ldc) {
  constexpr size_t MR = 6, NR = 16;
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (size_t k = 0; k < kc; k++, a += MR, b += NR) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    __m256 x = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
  }
  const __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (size_t i = 0; i < MR; i++) {
    float* ci = c + i * ldc;
    _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(ci), rows[i][0]));
    _mm256_storeu_ps(ci + 8, _mm256_add_ps(_mm256_loadu_ps(ci + 8), rows[i][1]));
  }
}

// MR×32: 2·MR zmm accumulators (of 32 registers). Per k: 2 panel loads and MR broadcast loads feed
// 2·MR FMAs, so the loads stay within what the load ports do while both FMA ports are busy. The loops
// over i are fully unrolled, so the accumulator arrays live in registers.
template <size_t MR>
__attribute__((target("avx512f"))) void kernelAvx512(size_t kc, const float* a, const float* b, float* c, size_t ldc) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; k++, a += MR, b += 32) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; i++) {
      const __m512 x = _mm512_set1_ps(a[i]);
      c0[i] = _mm512_fmadd_ps(x, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(x, b1, c1[i]);
    }
  }
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; i++) {
    float* ci = c + i * ldc;
    _mm512_storeu_ps(ci, _mm512_add_ps(_mm512_loadu_ps(ci), c0[i]));
    _mm512_storeu_ps(ci + 16, _mm512_add_ps(_mm512_loadu_ps(ci + 16), c1[i]));
  }
}
#endif

using Kernel = void (*)(size_t, const float*, const float*, float*, size_t);

// The GEMM's shape for one micro-kernel, all in one place. The packed panels follow the tile (A in
// mr-row panels, W1 in nr-column panels). C[MC, NC] is one thread's block: A[MC, KC] is packed once
// per NC columns, so a wider NC packs A less often; a KC×nr panel of W1 (32 KiB for nr = 32) stays
// in L1 while the MC/mr row panels of A[MC, KC] (in L2) stream past it.
// AVX-512: 8×32 (16 accumulators; 6×32, 12×32 and 14×32 measured the same within noise, 8 leaves
// the A panel 8 KiB of L1 next to the W1 panel); NC 1,024 packs A once per 1,024 columns, not 256.
struct Gemm {
  Kernel kernel;
  size_t mr, nr;
  size_t nc, mcMax;
};

Gemm pickGemm() {
#ifdef RK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {kernelAvx512<8>, 8, 32, 1024, 128};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {kernelAvx2, 6, 16, 256, 96};
#endif
  return {kernelPortable<6, 16>, 6, 16, 256, 96};
}

// ---------------------------------------------------------------------------------------------

struct Problem {
  uint64_t B, T, H, N, K;
  int dtype;
  const void* hidden;
  int poolKind;  // 0 none ([B, H]), 1 index, 2 mean
  const uint32_t* index;
  const uint8_t* mask;  // mean pooling; null = every token
  std::vector<const float*> w1;  // [K]: head k's W1 [width_k·H] (JS owns them; no concatenated copy)
  const float* colB1;   // [N]
  const float* colW2;   // [N]
  const uint32_t* colHead;  // [N]
  const uint32_t* headAct;  // [K]
  const double* headConst;  // [K]
  float* out;               // [K·B]
};

double activate(uint32_t act, double z) {
  switch (act) {
    case kSilu: return z / (1 + std::exp(-z));
    case kGelu: return 0.5 * z * (1 + std::erf(z * 0.70710678118654752440));
    case kRelu: return z > 0 ? z : (z <= 0 ? 0.0 : z);  // NaN stays NaN
    case kTanh: return std::tanh(z);
    default: return z;
  }
}

#if REWARDKIT_VECTOR
// Σ_j w2_j·silu(c_j + b1_j) over the first multiple of 4 of n columns, 4 at a time with vexp.h's f64
// exp (~2 ulp of libm's: far below the GEMM's f32 rounding that the tolerance is made of). The
// scalar epilogue spent as long in libm's exp as the GEMM kernel took at 512 × 512 × 512.
REWARDKIT_CLONES size_t siluColumns(const float* c, const float* b1, const float* w2, size_t n, double& sum) {
  v4d acc = splat4d(0);
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const v4d z = widen(load<v4f>(c + j)) + widen(load<v4f>(b1 + j));
    acc += widen(load<v4f>(w2 + j)) * (z / (1.0 + vexp(-z)));
  }
  sum += hsum(acc);
  return j;
}
#endif

// Σ_j w2_j·act(c_j + b1_j) over n columns of one head.
double headColumns(uint32_t act, const float* c, const float* b1, const float* w2, size_t n) {
  double sum = 0;
  size_t j = 0;
#if REWARDKIT_VECTOR
  if (act == kSilu) j = siluColumns(c, b1, w2, n, sum);
#endif
  for (; j < n; j++) sum += static_cast<double>(w2[j]) * activate(act, static_cast<double>(c[j]) + b1[j]);
  return sum;
}

// Row b of A as the GEMM reads it: a pointer into the hidden states (or the pooled buffer) + dtype.
struct Rows {
  const void* base;
  int dtype;
  const uint64_t* offset;  // [B] element offset of each row's first value
};

// Pack rows [r0, r0+mc) × columns [k0, k0+kc) of A into mr-row panels Ap[panel][k][mr] (zero rows past B).
void packA(const Rows& A, uint64_t B, size_t r0, size_t mc, size_t k0, size_t kc, size_t mr, float* ap) {
  const float* table = A.dtype == kF16 ? f16Table() : nullptr;
  for (size_t p = 0; p < mc; p += mr) {
    float* dst = ap + p * kc;
    for (size_t i = 0; i < mr; i++) {
      const size_t r = r0 + p + i;
      if (r >= B || p + i >= mc) {
        for (size_t k = 0; k < kc; k++) dst[k * mr + i] = 0;
        continue;
      }
      const uint64_t at = A.offset[r] + k0;
      if (A.dtype == kF32) {
        const float* s = static_cast<const float*>(A.base) + at;
        for (size_t k = 0; k < kc; k++) dst[k * mr + i] = s[k];
      } else {
        const uint16_t* s = static_cast<const uint16_t*>(A.base) + at;
        if (table) for (size_t k = 0; k < kc; k++) dst[k * mr + i] = table[s[k]];
        else for (size_t k = 0; k < kc; k++) dst[k * mr + i] = bf16(s[k]);
      }
    }
  }
}

// Pack columns [n0, n0+count) of W1 [N, H] into nr-column panels Wp[panel][H][nr] (zero past N).
// In blocks of 16 values of k: one cache line of each W1 row lands in a 16×nr block of the panel
// that stays in L1. Copying a whole column of H values at a time puts each of its H strided stores
// on another line (measured 1.6× slower, single-threaded at H = 2,048).
void packW(const std::vector<const float*>& row, uint64_t H, uint64_t n0, size_t count, size_t nr, float* wp) {
  constexpr uint64_t KB = 16;
  const size_t panels = (count + nr - 1) / nr;
  // At least 1 MiB of panels per thread: starting a thread costs more than packing less.
  const size_t minPanels = std::max<uint64_t>(1, (uint64_t{1} << 18) / (H * nr));
  parallel_for(panels * 64, minPanels * 64, [&](size_t b, size_t e) {
    for (size_t p = b / 64; p < e / 64; p++) {
      const size_t cols = std::min(nr, count - p * nr);
      for (uint64_t k0 = 0; k0 < H; k0 += KB) {
        const uint64_t kb = std::min(KB, H - k0);
        float* dst = wp + (p * H + k0) * nr;
        for (size_t j = 0; j < cols; j++) {
          const float* src = row[n0 + p * nr + j] + k0;
          for (uint64_t k = 0; k < kb; k++) dst[k * nr + j] = src[k];
        }
        for (size_t j = cols; j < nr; j++)
          for (uint64_t k = 0; k < kb; k++) dst[k * nr + j] = 0;
      }
    }
  });
}

void meanPool(const Problem& p, float* pooled) {
  const uint64_t B = p.B, T = p.T, H = p.H;
  const float* table = p.dtype == kF16 ? f16Table() : nullptr;
  parallel_for(B * 64, std::max<size_t>(64, 64 * ((size_t{1} << 18) / std::max<uint64_t>(1, T * H))), [&](size_t b0, size_t b1) {
    std::vector<double> acc(H);
    for (size_t b = b0 / 64; b < b1 / 64; b++) {
      std::fill(acc.begin(), acc.end(), 0.0);
      uint64_t count = 0;
      for (uint64_t t = 0; t < T; t++) {
        if (p.mask && !p.mask[b * T + t]) continue;  // skipped: NaN in padding cannot leak
        count++;
        const uint64_t at = (b * T + t) * H;
        if (p.dtype == kF32) { const float* s = static_cast<const float*>(p.hidden) + at; for (uint64_t j = 0; j < H; j++) acc[j] += s[j]; }
        else if (table) { const uint16_t* s = static_cast<const uint16_t*>(p.hidden) + at; for (uint64_t j = 0; j < H; j++) acc[j] += table[s[j]]; }
        else { const uint16_t* s = static_cast<const uint16_t*>(p.hidden) + at; for (uint64_t j = 0; j < H; j++) acc[j] += bf16(s[j]); }
      }
      const double inv = 1.0 / static_cast<double>(std::max<uint64_t>(count, 1));
      for (uint64_t j = 0; j < H; j++) pooled[b * H + j] = static_cast<float>(acc[j] * inv);
    }
  });
}

// The first 64-byte boundary in a buffer allocated 16 floats longer (aligned panel loads).
float* aligned64(float* p) { return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63}); }

void scoreHeads(const Problem& p) {
  const uint64_t B = p.B, H = p.H, N = p.N, K = p.K;
  static const Gemm g = pickGemm();

  // Rows of A: the pooled buffer, or the selected token of each row read in place.
  std::vector<float> pooled;
  std::vector<uint64_t> offset(B);
  Rows A{p.hidden, p.dtype, offset.data()};
  if (p.poolKind == 2) {
    pooled.resize(B * H);
    meanPool(p, pooled.data());
    A = Rows{pooled.data(), kF32, offset.data()};
    for (uint64_t b = 0; b < B; b++) offset[b] = b * H;
  } else {
    for (uint64_t b = 0; b < B; b++) offset[b] = (p.poolKind == 1 ? b * p.T + p.index[b] : b) * H;
  }

  std::vector<double> acc(B * K);
  for (uint64_t b = 0; b < B; b++)
    for (uint64_t k = 0; k < K; k++) acc[b * K + k] = p.headConst[k];

  // Rows per block: the same number of blocks for every thread, each at most mcMax rows and a
  // multiple of mr, so that no thread is left with a short last block while another works on.
  // Thread slot s takes blocks [s·blocksPerSlot, (s+1)·blocksPerSlot) and owns its scratch.
  const size_t threads = hardware_threads();
  const size_t perThread = static_cast<size_t>((B + threads - 1) / threads);
  const size_t blocksPerSlot = (perThread + g.mcMax - 1) / g.mcMax;
  const size_t mc = ((perThread + blocksPerSlot - 1) / blocksPerSlot + g.mr - 1) / g.mr * g.mr;
  const size_t blocks = static_cast<size_t>((B + mc - 1) / mc);
  const size_t slots = (blocks + blocksPerSlot - 1) / blocksPerSlot;
  // Columns per super-chunk: whole panels whose packing fits SUPER_BYTES; C as wide as they need.
  const size_t perSuper = static_cast<size_t>(std::max<uint64_t>(g.nr, SUPER_BYTES / (H * 4) / g.nr * g.nr));
  const size_t superCols = static_cast<size_t>((std::min<uint64_t>(N, perSuper) + g.nr - 1) / g.nr * g.nr);
  const size_t NC = std::min(g.nc, superCols);

  // All scratch in one allocation on this (long-lived) thread, every part 64-byte aligned: the
  // packed W1 super-chunk, then per slot A[mc, KC] and C[mc, NC]. Not zeroed (packW and packA write
  // every value they hand on; C is cleared per chunk). Below glibc's 32 MiB ceiling for its dynamic
  // mmap threshold (SUPER_BYTES = 16 MiB), a repeated call reuses heap pages instead of mapping
  // fresh ones; on the 2-core VM this was tuned on, a page fault costs ~14 us, so a fresh 64 MiB
  // buffer cost ~230 ms a call, about half the time of the 4,096 × 4,096 × 4,096 GEMM it served.
  // (Scratch allocated inside the short-lived worker threads faulted anew on every call.)
  const auto round16 = [](uint64_t n) { return static_cast<size_t>((n + 15) / 16 * 16); };
  const size_t wpFloats = round16(superCols * H), apFloats = round16(mc * std::min<uint64_t>(KC, H)), cFloats = round16(mc * NC);
  std::unique_ptr<float[]> scratch(new float[wpFloats + slots * (apFloats + cFloats) + 16]);
  float* const wp = aligned64(scratch.get());

  // W1 row n lives in its head's array: columns of a head are contiguous (colHead is non-decreasing).
  std::vector<const float*> w1Rows(N);
  for (uint64_t n = 0, first = 0; n < N; n++) {
    if (n > 0 && p.colHead[n] != p.colHead[n - 1]) first = n;
    w1Rows[n] = p.w1[p.colHead[n]] + (n - first) * H;
  }

  for (uint64_t s0 = 0; s0 < N; s0 += perSuper) {
    const size_t scount = static_cast<size_t>(std::min<uint64_t>(perSuper, N - s0));
    packW(w1Rows, H, s0, scount, g.nr, wp);
    parallel_for(slots * 64, 64, [&](size_t u0, size_t u1) {
      const size_t mr = g.mr, nr = g.nr;
      for (size_t slot = u0 / 64; slot < u1 / 64; slot++) {
        float* const ap = wp + wpFloats + slot * (apFloats + cFloats);
        float* const cb = ap + apFloats;
        for (size_t blk = slot * blocksPerSlot; blk < std::min(blocks, (slot + 1) * blocksPerSlot); blk++) {
          const size_t r0 = blk * mc, rows = static_cast<size_t>(std::min<uint64_t>(mc, B - r0));
          const size_t mPanels = (rows + mr - 1) / mr;
          for (size_t c0 = 0; c0 < scount; c0 += NC) {
            const size_t nc = std::min(NC, scount - c0), nPanels = (nc + nr - 1) / nr;
            std::fill(cb, cb + mPanels * mr * NC, 0.0f);
            for (size_t k0 = 0; k0 < H; k0 += KC) {
              const size_t kc = static_cast<size_t>(std::min<uint64_t>(KC, H - k0));
              packA(A, B, r0, mPanels * mr, k0, kc, mr, ap);
              for (size_t jp = 0; jp < nPanels; jp++) {
                const float* bp = wp + ((c0 / nr) + jp) * H * nr + k0 * nr;
                for (size_t ip = 0; ip < mPanels; ip++) g.kernel(kc, ap + ip * mr * kc, bp, cb + ip * mr * NC + jp * nr, NC);
              }
            }
            // Epilogue: bias, activation, output weight, summed per head (double), a run of one
            // head's columns at a time (columns of a head are contiguous).
            for (size_t i = 0; i < rows; i++) {
              double* a = acc.data() + (r0 + i) * K;
              const float* c = cb + i * NC;
              for (size_t j = 0, j1; j < nc; j = j1) {
                const uint64_t n = s0 + c0 + j;
                const uint32_t k = p.colHead[n];
                for (j1 = j + 1; j1 < nc && p.colHead[n + (j1 - j)] == k; j1++) {}
                a[k] += headColumns(p.headAct[k], c + j, p.colB1 + n, p.colW2 + n, j1 - j);
              }
            }
          }
        }
      }
    });
  }
  for (uint64_t b = 0; b < B; b++)
    for (uint64_t k = 0; k < K; k++) p.out[k * B + b] = static_cast<float>(acc[b * K + k]);
}

}  // namespace

Napi::Value ScoreHeads(const Napi::CallbackInfo& info) {
  OpArgs a(info, "scoreHeads");
  const uint64_t big = uint64_t{1} << 52;
  Problem p{};
  p.B = a.size("B");
  p.T = a.size("T");
  p.H = a.size("H");
  p.N = a.size("N", uint64_t{1} << 24);
  p.K = a.size("K", p.N);
  if (p.B == 0 || p.H == 0 || p.N == 0 || p.K == 0) a.range("expected B, H, N, K >= 1");
  if (p.B * std::max<uint64_t>(p.T, 1) > big / p.H || p.N > big / p.H) a.range("expected sizes below 2^52 elements");
  p.dtype = a.choice("dtype", 3);
  const uint64_t elems = p.B * std::max<uint64_t>(p.T, 1) * p.H;
  if (p.dtype == kF32) p.hidden = a.array<float>("hiddenF32", elems);
  else p.hidden = a.array<uint16_t>("hiddenU16", elems);
  p.poolKind = a.choice("poolKind", 3);
  if ((p.poolKind == 0) != (p.T == 0)) a.range("expected poolKind 0 exactly when T = 0");
  if (p.poolKind == 1) p.index = a.indices("index", p.B, p.T);
  if (p.poolKind == 2) p.mask = a.optional<uint8_t>("mask", p.B * p.T);
  p.colB1 = a.array<float>("colB1", p.N);
  p.colW2 = a.array<float>("colW2", p.N);
  p.colHead = a.indices("colHead", p.N, p.K);
  // Head k's W1 comes as its own array "w1_k" of width_k·H values; its columns must be contiguous.
  std::vector<uint64_t> width(p.K, 0);
  for (uint64_t n = 0; n < p.N; n++) {
    if (n > 0 && p.colHead[n] < p.colHead[n - 1]) a.range("expected colHead non-decreasing");
    width[p.colHead[n]]++;
  }
  for (uint64_t k = 0; k < p.K; k++) {
    const std::string name = "w1_" + std::to_string(k);
    p.w1.push_back(a.array<float>(name.c_str(), width[k] * p.H));
  }
  p.headAct = a.indices("headAct", p.K, 5);
  p.headConst = a.array<double>("headConst", p.K);
  p.out = a.array<float>("out", p.K * p.B);
  return a.queue([p](Outputs&) { scoreHeads(p); });
}

REWARDKIT_OP("scoreHeads", ScoreHeads);

}  // namespace rewardkit
