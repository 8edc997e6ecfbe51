// Reward-model evaluation kernels: Bradley–Terry probabilities / losses / accuracy sums
// (lib/eval/preference.ref.ts) and EPIC canonicalisation + weighted Pearson moments
// (lib/eval/epic.ref.ts). f32 inputs, f64 arithmetic, f32 per-element outputs; reductions are
// per-chunk partial sums in double combined in chunk order. Never build with -ffast-math.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

namespace rewardkit {
namespace {

constexpr size_t kMinPerThread = size_t{1} << 14;

struct BtArgs {
  size_t n;
  const float *chosen, *rejected, *margin;
  double marginValue, eps;
  float *prob, *loss;
};

struct BtSums { double loss = 0, square = 0, wins = 0, ties = 0; };

#if REWARDKIT_VECTOR
// log1p(e) for e in [0, 1] (and NaN), 4 lanes in f64: u = 1 + e, log u = k·ln2 + 2·atanh((f−1)/(f+1))
// with f = u or u/2 in [0.71, 1.42] (|s| <= 0.172: the series to s^23 is below 1e-17), then
// Goldberg's correction e/(u − 1) for the rounding of 1 + e (exact 0 stays 0).
RK_INLINE v4d vlog1p01(v4d e) {
  const v4d u = 1.0 + e;
  const v4l big = u > 1.4142135623730951;
  const v4d f = big ? u * 0.5 : u;
  const v4d s = (f - 1.0) / (f + 1.0), s2 = s * s, s4 = s2 * s2, s8 = s4 * s4, s16 = s8 * s8;
  // p = Σ_{k=0}^{10} s2^k/(2k+3) by Estrin's scheme.
  const v4d q0 = 1.0 / 3 + s2 * (1.0 / 5), q1 = 1.0 / 7 + s2 * (1.0 / 9), q2 = 1.0 / 11 + s2 * (1.0 / 13);
  const v4d q3 = 1.0 / 15 + s2 * (1.0 / 17), q4 = 1.0 / 19 + s2 * (1.0 / 21);
  const v4d p = (q0 + q1 * s4) + (q2 + q3 * s4) * s8 + (q4 + s4 * (1.0 / 23)) * s16;
  const v4d logf = 2.0 * s + 2.0 * s * s2 * p;
  const v4d logu = (big ? splat4d(0.6931471805599453) : splat4d(0.0)) + logf;
  const v4d du = u - 1.0;
  return du == 0.0 ? e : logu * (e / du);
}

// Four pairs at a time (the scalar loop below finishes the tail): the same formulas as btPair()
// with a vectorised exp (vexp.h, ~2 ulp of f64) and log1p, so the kernel is not bound by libm.
REWARDKIT_CLONES size_t btVector(const BtArgs& a, size_t begin, size_t end, BtSums& s) {
  v4d sl = splat4d(0), sq = splat4d(0);
  v4l wins = {0, 0, 0, 0}, ties = {0, 0, 0, 0};
  size_t i = begin;
  for (; i + 4 <= end; i += 4) {
    const v4d c = widen(load<v4f>(a.chosen + i)), r = widen(load<v4f>(a.rejected + i));
    const v4d m = a.margin ? widen(load<v4f>(a.margin + i)) : splat4d(a.marginValue);
    const v4d d = c - r, z = d - m;
    const v4d ad = d < 0.0 ? -d : d, az = z < 0.0 ? -z : z;
    const v4d ed = vexp(-ad), ez = a.margin || a.marginValue != 0 ? vexp(-az) : ed;  // no margin: z = d
    const v4d L = vlog1p01(ez);
    const v4d zneg = z < 0.0 ? z : splat4d(0.0);
    v4d l = L - zneg;
    if (a.eps != 0) {
      const v4d zpos = z > 0.0 ? -z : splat4d(0.0);  // min(−z, 0)
      l = L - (1 - a.eps) * zneg - a.eps * zpos;
    }
    const v4d p = d >= 0.0 ? 1.0 / (1.0 + ed) : ed / (1.0 + ed);
    store(a.prob + i, narrow(d != d ? d : p));
    store(a.loss + i, narrow(l));
    sl += l;
    sq += (c + r) * (c + r);
    wins -= (v4l)(c > r);
    ties -= (v4l)(c == r);
  }
  s.loss += hsum(sl);
  s.square += hsum(sq);
  s.wins += static_cast<double>(wins[0] + wins[1] + wins[2] + wins[3]);
  s.ties += static_cast<double>(ties[0] + ties[1] + ties[2] + ties[3]);
  return i;
}
#endif

BtSums btChunk(const BtArgs& a, size_t begin, size_t end) {
  BtSums s;
#if REWARDKIT_VECTOR
  begin = btVector(a, begin, end, s);
#endif
  for (size_t i = begin; i < end; i++) {
    const double c = a.chosen[i], r = a.rejected[i];
    const double m = a.margin ? static_cast<double>(a.margin[i]) : a.marginValue;
    const double d = c - r, z = d - m;
    // btPair(): log σ(±z) = min(±z, 0) − log1p(e^−|z|), and σ(Δ) reuses e^−|Δ| when m = 0.
    const double ed = std::exp(-std::fabs(d));
    const double ez = m == 0 ? ed : std::exp(-std::fabs(z));
    const double L = std::log1p(ez);
    const double l = a.eps == 0 ? L - std::min(z, 0.0) : L - (1 - a.eps) * std::min(z, 0.0) - a.eps * std::min(-z, 0.0);
    a.prob[i] = static_cast<float>(d >= 0 ? 1 / (1 + ed) : ed / (1 + ed));
    a.loss[i] = static_cast<float>(l);
    s.loss += l;
    s.square += (c + r) * (c + r);
    if (c > r) s.wins += 1;
    else if (c == r) s.ties += 1;
  }
  return s;
}

// Chunks of a fixed size so the sums do not depend on the thread count.
constexpr size_t kChunk = size_t{1} << 14;

Napi::Value BradleyTerry(const Napi::CallbackInfo& info) {
  OpArgs a(info, "bradleyTerry");
  BtArgs p{};
  p.n = a.size("pairs");
  if (p.n == 0) a.range("expected pairs >= 1");
  p.chosen = a.array<float>("chosen", p.n);
  p.rejected = a.array<float>("rejected", p.n);
  p.margin = a.optional<float>("margin", p.n);
  p.marginValue = a.number("marginValue");
  p.eps = a.number("labelSmoothing");
  p.prob = a.array<float>("probabilities", p.n);
  p.loss = a.array<float>("losses", p.n);
  return a.queue([p](Outputs& out) {
    const size_t chunks = (p.n + kChunk - 1) / kChunk;
    std::vector<BtSums> part(chunks);
    parallel_for(chunks, 1, [&](size_t b, size_t e) {
      for (size_t c = b; c < e; c++) part[c] = btChunk(p, c * kChunk, std::min(p.n, (c + 1) * kChunk));
    });
    BtSums s;
    for (const BtSums& x : part) { s.loss += x.loss; s.square += x.square; s.wins += x.wins; s.ties += x.ties; }
    out.emplace_back("loss", s.loss);
    out.emplace_back("square", s.square);
    out.emplace_back("wins", s.wins);
    out.emplace_back("ties", s.ties);
  });
}

// ---------------------------------------------------------------------------------------------
// EPIC (epic.ref.ts): C(R)(s,a,s') = R + γ m(s') − m(s) − γ m̄ with m(s) = E_{A,S'} R(s,A,S'),
// then the weighted moments of (Ca, Cb) for the Pearson correlation.

struct EpicArgs {
  size_t S, A;
  const float *ra, *rb;
  const float *stateDist, *actionDist, *weights;  // null = uniform
  double gamma;
  float *ca, *cb;  // null = not wanted
};

// m(s) per state and m̄ for one reward table, in f64.
void potentials(const EpicArgs& p, const float* r, std::vector<double>& m, double& mbar) {
  const size_t S = p.S, A = p.A;
  m.assign(S, 0.0);
  parallel_for(S, 64, [&](size_t b, size_t e) {
    for (size_t s = b; s < e; s++) {
      double acc = 0;
      for (size_t a = 0; a < A; a++) {
        const float* row = r + (s * A + a) * S;
        double sa = 0;
        if (p.stateDist) for (size_t t = 0; t < S; t++) sa += p.stateDist[t] * static_cast<double>(row[t]);
        else { for (size_t t = 0; t < S; t++) sa += row[t]; sa /= static_cast<double>(S); }
        acc += p.actionDist ? p.actionDist[a] * sa : sa;
      }
      m[s] = p.actionDist ? acc : acc / static_cast<double>(A);
    }
  });
  double acc = 0;
  for (size_t s = 0; s < S; s++) acc += p.stateDist ? p.stateDist[s] * m[s] : m[s];
  mbar = p.stateDist ? acc : acc / static_cast<double>(S);
}

struct Moments { double w = 0, a = 0, b = 0, aa = 0, bb = 0, ab = 0; };

Napi::Value EpicTabular(const Napi::CallbackInfo& info) {
  OpArgs a(info, "epicTabular");
  EpicArgs p{};
  p.S = a.size("states");
  p.A = a.size("actions");
  if (p.S == 0 || p.A == 0) a.range("expected states >= 1 and actions >= 1");
  const uint64_t n = static_cast<uint64_t>(p.S) * p.A * p.S;
  if (n > kMaxU32) a.range("expected states*actions*states < 2^32");
  p.ra = a.array<float>("rewardA", n);
  p.rb = a.array<float>("rewardB", n);
  p.stateDist = a.optional<float>("stateDist", p.S);
  p.actionDist = a.optional<float>("actionDist", p.A);
  p.weights = a.optional<float>("weights", n);
  p.gamma = a.number("discount");
  p.ca = a.optional<float>("canonicalA", n);
  p.cb = a.optional<float>("canonicalB", n);
  return a.queue([p](Outputs& out) {
    std::vector<double> ma, mb;
    double mbarA = 0, mbarB = 0;
    potentials(p, p.ra, ma, mbarA);
    potentials(p, p.rb, mb, mbarB);
    const size_t S = p.S, rowsTotal = p.S * p.A;
    // One chunk per (s, a) row block of a fixed size: sums independent of the thread count.
    const size_t rowsPerChunk = std::max<size_t>(1, kChunk / S);
    const size_t chunks = (rowsTotal + rowsPerChunk - 1) / rowsPerChunk;
    std::vector<Moments> part(chunks);
    parallel_for(chunks, 1, [&](size_t b, size_t e) {
      for (size_t c = b; c < e; c++) {
        Moments m;
        for (size_t row = c * rowsPerChunk; row < std::min(rowsTotal, (c + 1) * rowsPerChunk); row++) {
          const size_t s = row / p.A;
          const double shiftA = -ma[s] - p.gamma * mbarA, shiftB = -mb[s] - p.gamma * mbarB;
          for (size_t t = 0; t < S; t++) {
            const size_t i = row * S + t;
            const double x = p.ra[i] + p.gamma * ma[t] + shiftA;
            const double y = p.rb[i] + p.gamma * mb[t] + shiftB;
            if (p.ca) p.ca[i] = static_cast<float>(x);
            if (p.cb) p.cb[i] = static_cast<float>(y);
            const double w = p.weights ? static_cast<double>(p.weights[i]) : 1.0;
            m.w += w; m.a += w * x; m.b += w * y; m.aa += w * x * x; m.bb += w * y * y; m.ab += w * x * y;
          }
        }
        part[c] = m;
      }
    });
    Moments m;
    for (const Moments& x : part) { m.w += x.w; m.a += x.a; m.b += x.b; m.aa += x.aa; m.bb += x.bb; m.ab += x.ab; }
    out.emplace_back("w", m.w);
    out.emplace_back("a", m.a);
    out.emplace_back("b", m.b);
    out.emplace_back("aa", m.aa);
    out.emplace_back("bb", m.bb);
    out.emplace_back("ab", m.ab);
  });
}

}  // namespace

REWARDKIT_OP("bradleyTerry", BradleyTerry);
REWARDKIT_OP("epicTabular", EpicTabular);

}  // namespace rewardkit
