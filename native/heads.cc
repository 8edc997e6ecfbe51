// Reward heads (lib/scoring/heads.ts; the JS reference is lib/scoring/heads.ref.ts).
//
// Every head is one form: score_k = c_k + Σ_{n ∈ head k} w2[n]·act_k(W1[n]·h + b1[n]), where the
// columns n of all K heads are concatenated (a linear head is one column, identity, w2 = 1). The
// first layer is one GEMM Z[B, N] = A[B, H]·W1[N, H]ᵀ, computed in blocks and never stored whole:
//
//   for each super-chunk of columns (≤ 64 MiB of W1): pack it once into 16-column panels [H][16];
//     for each block of MC rows (split over threads):
//       for each chunk of NC columns:  C[MC, NC] = 0
//         for each KC slice of H: pack A[MC, KC] into 6-row panels (f16/bf16 widened here),
//           C += the 6×16 micro-kernel over every (row panel, column panel) pair (FMA, f32)
//         epilogue: acc[b, k] += w2[n]·act(C[b, n] + b1[n]) in double, columns in order.
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
#include <vector>

#include "common/op.h"
#include "common/parallel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RK_X86 1
#endif

namespace rewardkit {
namespace {

constexpr size_t MR = 6, NR = 16;  // the micro-kernel's tile: 12 accumulators of 8 lanes
constexpr size_t KC = 256;         // a 16 KiB column panel slice stays in L1 across row panels
constexpr size_t NC = 256;         // C block per thread: MC·NC·4 ≤ 96 KiB
constexpr size_t MC_MAX = 96;
constexpr size_t SUPER_BYTES = size_t{64} << 20;

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
// Micro-kernels: C[6×16] (row stride ldc) += Ap[kc][6] · Bp[kc][16].

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
__attribute__((target("avx2,fma"))) void kernelAvx2(size_t kc, const float* a, const float* b, float* c, size_t ldc) {
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
#endif

using Kernel = void (*)(size_t, const float*, const float*, float*, size_t);

Kernel pickKernel() {
#ifdef RK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kernelAvx2;
#endif
  return kernelPortable;
}

// ---------------------------------------------------------------------------------------------

struct Problem {
  uint64_t B, T, H, N, K;
  int dtype;
  const void* hidden;
  int poolKind;  // 0 none ([B, H]), 1 index, 2 mean
  const uint32_t* index;
  const uint8_t* mask;  // mean pooling; null = every token
  const float* w1;      // [N·H]
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

// Row b of A as the GEMM reads it: a pointer into the hidden states (or the pooled buffer) + dtype.
struct Rows {
  const void* base;
  int dtype;
  const uint64_t* offset;  // [B] element offset of each row's first value
};

// Pack rows [r0, r0+mc) × columns [k0, k0+kc) of A into 6-row panels Ap[panel][k][6] (zero rows past B).
void packA(const Rows& A, uint64_t B, size_t r0, size_t mc, size_t k0, size_t kc, float* ap) {
  const float* table = A.dtype == kF16 ? f16Table() : nullptr;
  for (size_t p = 0; p < mc; p += MR) {
    float* dst = ap + p * kc;
    for (size_t i = 0; i < MR; i++) {
      const size_t r = r0 + p + i;
      if (r >= B || p + i >= mc) {
        for (size_t k = 0; k < kc; k++) dst[k * MR + i] = 0;
        continue;
      }
      const uint64_t at = A.offset[r] + k0;
      if (A.dtype == kF32) {
        const float* s = static_cast<const float*>(A.base) + at;
        for (size_t k = 0; k < kc; k++) dst[k * MR + i] = s[k];
      } else {
        const uint16_t* s = static_cast<const uint16_t*>(A.base) + at;
        if (table) for (size_t k = 0; k < kc; k++) dst[k * MR + i] = table[s[k]];
        else for (size_t k = 0; k < kc; k++) dst[k * MR + i] = bf16(s[k]);
      }
    }
  }
}

// Pack columns [n0, n0+count) of W1 [N, H] into 16-column panels Wp[panel][H][16] (zero past N).
void packW(const float* w1, uint64_t N, uint64_t H, uint64_t n0, size_t count, float* wp) {
  const size_t panels = (count + NR - 1) / NR;
  parallel_for(panels * 64, 64, [&](size_t b, size_t e) {
    for (size_t p = b / 64; p < e / 64; p++) {
      float* dst = wp + p * H * NR;
      for (size_t j = 0; j < NR; j++) {
        const uint64_t n = n0 + p * NR + j;
        if (p * NR + j >= count || n >= N) {
          for (uint64_t k = 0; k < H; k++) dst[k * NR + j] = 0;
          continue;
        }
        const float* src = w1 + n * H;
        for (uint64_t k = 0; k < H; k++) dst[k * NR + j] = src[k];
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

void scoreHeads(const Problem& p) {
  const uint64_t B = p.B, H = p.H, N = p.N, K = p.K;
  const Kernel kernel = pickKernel();

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

  // Rows per block: enough blocks for every thread, at most MC_MAX, a multiple of MR.
  const size_t threads = hardware_threads();
  size_t mc = static_cast<size_t>((B + threads - 1) / threads);
  mc = std::min(MC_MAX, (mc + MR - 1) / MR * MR);
  const size_t blocks = static_cast<size_t>((B + mc - 1) / mc);
  // Columns per super-chunk: whole NC chunks whose packed panels fit SUPER_BYTES.
  const size_t perSuper = std::max<size_t>(NC, SUPER_BYTES / (H * 4) / NC * NC);
  std::vector<float> wp(((std::min<uint64_t>(N, perSuper) + NR - 1) / NR) * NR * H + 16);
  float* wpAligned = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(wp.data()) + 63) & ~uintptr_t{63});

  for (uint64_t s0 = 0; s0 < N; s0 += perSuper) {
    const size_t scount = static_cast<size_t>(std::min<uint64_t>(perSuper, N - s0));
    packW(p.w1, N, H, s0, scount, wpAligned);
    parallel_for(blocks * 64, 64, [&](size_t u0, size_t u1) {
      std::vector<float> apBuf(MC_MAX * KC + 16), cBuf(MC_MAX * NC);
      float* ap = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(apBuf.data()) + 63) & ~uintptr_t{63});
      for (size_t blk = u0 / 64; blk < u1 / 64; blk++) {
        const size_t r0 = blk * mc, rows = static_cast<size_t>(std::min<uint64_t>(mc, B - r0));
        const size_t mPanels = (rows + MR - 1) / MR;
        for (size_t c0 = 0; c0 < scount; c0 += NC) {
          const size_t nc = std::min(NC, scount - c0), nPanels = (nc + NR - 1) / NR;
          std::fill(cBuf.begin(), cBuf.begin() + mPanels * MR * NC, 0.0f);
          for (size_t k0 = 0; k0 < H; k0 += KC) {
            const size_t kc = static_cast<size_t>(std::min<uint64_t>(KC, H - k0));
            packA(A, B, r0, mPanels * MR, k0, kc, ap);
            for (size_t jp = 0; jp < nPanels; jp++) {
              const float* bp = wpAligned + ((c0 / NR) + jp) * H * NR + k0 * NR;
              for (size_t ip = 0; ip < mPanels; ip++) kernel(kc, ap + ip * MR * kc, bp, cBuf.data() + ip * MR * NC + jp * NR, NC);
            }
          }
          // Epilogue: bias, activation, output weight, summed per head in column order (double).
          for (size_t i = 0; i < rows; i++) {
            double* a = acc.data() + (r0 + i) * K;
            const float* c = cBuf.data() + i * NC;
            for (size_t j = 0; j < nc; j++) {
              const uint64_t n = s0 + c0 + j;
              const uint32_t k = p.colHead[n];
              a[k] += static_cast<double>(p.colW2[n]) * activate(p.headAct[k], static_cast<double>(c[j]) + p.colB1[n]);
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
  p.w1 = a.array<float>("w1", p.N * p.H);
  p.colB1 = a.array<float>("colB1", p.N);
  p.colW2 = a.array<float>("colW2", p.N);
  p.colHead = a.indices("colHead", p.N, p.K);
  p.headAct = a.indices("headAct", p.K, 5);
  p.headConst = a.array<double>("headConst", p.K);
  p.out = a.array<float>("out", p.K * p.B);
  return a.queue([p](Outputs&) { scoreHeads(p); });
}

REWARDKIT_OP("scoreHeads", ScoreHeads);

}  // namespace rewardkit
