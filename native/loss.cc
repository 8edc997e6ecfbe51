// Losses: see loss.h. Every step mirrors lib/loss/policy.ref.ts; the comments name the JS it
// matches. Never build with -ffast-math: the exact f32 rounding decides ties on clip boundaries.
#include "loss.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "common/vexp.h"

namespace rewardkit {
namespace {

constexpr size_t kMinTokensPerThread = size_t{1} << 15;

inline float clampf(float x, float lo, float hi) { return std::min(std::max(x, lo), hi); }  // clamp()
// Math.min / Math.max: NaN in, NaN out (std::min/max would pick a side).
inline float jsmin(float a, float b) { return (std::isnan(a) || std::isnan(b)) ? NAN : std::min(a, b); }
inline float jsmax(float a, float b) { return (std::isnan(a) || std::isnan(b)) ? NAN : std::max(a, b); }
inline double inside(float x, float lo, float hi) { return x >= lo && x <= hi ? 1.0 : 0.0; }
inline double wins(float a, float b, bool larger) { return a == b ? 0.5 : ((larger ? a > b : a < b) ? 1.0 : 0.0); }
inline float fexp(double x) { return static_cast<float>(std::exp(x)); }  // f(Math.exp(x))
// Per-token ratios: glibc's expf (< 0.51 ulp, twice the speed of exp in double) may differ from
// f(Math.exp(x)) by one ulp on rare inputs.
inline float fexpf(float x) { return std::exp(x); }

struct Term {
  float loss = 0;
  double grad = 0, clipped = 0, lower = 0, kl = 0;
};

// ppoClip()
inline void ppoClip(Term& r, float A, float ratio, double dr, float lo, float hi) {
  const float L1 = -A * ratio, cr = clampf(ratio, lo, hi), L2 = -A * cr;
  r.loss = jsmax(L1, L2);
  r.grad = -static_cast<double>(A) * dr * (wins(L1, L2, true) + wins(L2, L1, true) * inside(ratio, lo, hi));
  r.clipped = L2 > L1 ? 1 : 0;
  r.lower = 0;
}

// tokenTerms(), instantiated per kind so the token loop carries no dispatch. rowRatio: GSPO's
// f(e^min(rowValue, 10)), taken once per row by the caller.
template <LossKind K>
inline void tokenTerms(const LossArgs& p, float x, float o, float A, double rowValue, float rowRatio, Term& r) {
  switch (K) {
    case LossKind::Vanilla:
    case LossKind::Cispo:
    case LossKind::Sapo: {
      const float lr = x - o, lrc = clampf(lr, -20.0f, 20.0f), ratio = fexpf(lrc);
      const double dr = ratio * inside(lr, -20.0f, 20.0f);
      r.kl = -static_cast<double>(lrc);
      if (K == LossKind::Vanilla) {
        ppoClip(r, A, ratio, dr, p.lo, p.hi);
        if (p.clipC > 0 && A < 0) {
          const float L3 = -A * p.clipC, C1 = r.loss;
          r.loss = jsmin(L3, C1);
          r.grad *= wins(C1, L3, false);
          r.lower = C1 > L3 ? 1 : 0;
        }
      } else if (K == LossKind::Cispo) {
        const float cr = clampf(ratio, p.lo, p.hi), k = -cr * A;
        r.loss = k * x;
        r.grad = k;
        r.clipped = ratio != cr ? 1 : 0;
        r.lower = 0;
      } else {
        const float tau = A > 0 ? p.tauPos : p.tauNeg, q = 4.0f / tau;
        const float s = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(tau * (ratio - 1.0f)))));
        const float gate = s * q;
        r.loss = -gate * A;
        r.grad = -static_cast<double>(A) * q * s * (1.0 - s) * tau * dr;
        r.clipped = 0;
        r.lower = 0;
      }
      return;
    }
    case LossKind::Trl: {
      const float lr = x - o, c1 = fexpf(lr), c2 = clampf(c1, p.lo, p.hi);
      const float c1d = p.delta > 0 ? jsmin(c1, p.delta) : c1;
      const double dd = p.delta > 0 ? (c1 <= p.delta ? 1 : 0) : 1;
      const float P1 = c1d * A, P2 = c2 * A;
      r.loss = -jsmin(P1, P2);
      r.grad = -static_cast<double>(A) * c1 * (wins(P1, P2, false) * dd + wins(P2, P1, false) * inside(c1, p.lo, p.hi));
      r.lower = c1d < p.lo && A < 0 ? 1 : 0;
      r.clipped = (r.lower != 0 || (c1d > p.hi && A > 0)) ? 1 : 0;
      r.kl = -static_cast<double>(lr);
      return;
    }
    case LossKind::Gspo: {
      ppoClip(r, A, rowRatio, rowRatio * (rowValue <= 10 ? 1.0 : 0.0), p.lo, p.hi);
      r.kl = -static_cast<double>(x - o);
      return;
    }
    case LossKind::Gpg:
      r.loss = -x * A;
      r.grad = -static_cast<double>(A);
      r.clipped = r.lower = 0;
      r.kl = -static_cast<double>(x - o);
      return;
    case LossKind::Identity:
      r.loss = x;
      r.grad = 1;
      r.clipped = r.lower = r.kl = 0;
      return;
    case LossKind::Value: {
      const float hi = o + p.cliprange, lo = o - p.cliprange;
      const float m = jsmin(x, hi), vc = jsmax(m, lo);
      const double dvc = wins(x, hi, false) * wins(m, lo, true);
      const float e1 = x - A, e2 = vc - A, l1 = e1 * e1, l2 = e2 * e2;
      r.loss = jsmax(l1, l2);
      r.grad = wins(l1, l2, true) * 2 * static_cast<double>(e1) + wins(l2, l1, true) * 2 * static_cast<double>(e2) * dvc;
      r.clipped = l2 > l1 ? 1 : 0;
      r.lower = r.kl = 0;
      return;
    }
    case LossKind::Kl: {  // the kl case of tokenTerms()
      r.clipped = r.lower = r.kl = 0;
      const float d = x - o;
      if (p.estimator == 0) { r.loss = d; r.grad = 1; }
      else if (p.estimator == 1) { r.loss = std::fabs(d); r.grad = d > 0 ? 1.0 : d < 0 ? -1.0 : static_cast<double>(d); }  // Math.sign: ±0, NaN pass
      else if (p.estimator == 2) { r.loss = 0.5f * (d * d); r.grad = d; }
      else {
        const float k0 = o - x, k = clampf(k0, -20.0f, 20.0f), ratio = fexp(k), kld = (ratio - k) - 1.0f;
        r.loss = clampf(kld, -10.0f, 10.0f);
        r.grad = -(static_cast<double>(ratio) - 1) * inside(k0, -20.0f, 20.0f) * inside(kld, -10.0f, 10.0f);
      }
      return;
    }
    case LossKind::Gmpo:
      return;
  }
}

// gmpoToken()
inline void gmpoToken(const LossArgs& p, float x, float o, float A, Term& r) {
  const float lr = x - o;
  const float sg = std::isnan(A) ? NAN : static_cast<float>((A > 0) - (A < 0));  // Math.sign
  const float lrc = clampf(lr, p.lo, p.hi), u = sg * lr, v = sg * lrc;
  r.loss = sg * jsmin(u, v);
  r.grad = static_cast<double>(sg) * sg * (wins(u, v, false) + wins(v, u, false) * inside(lr, p.lo, p.hi));
  const bool clipped = lr != lrc;
  r.clipped = clipped && A > 0 ? 1 : 0;
  r.lower = clipped && A < 0 ? 1 : 0;
  r.kl = -static_cast<double>(lr);
}

inline double countEps(double n) { return static_cast<float>(n + 1e-8); }

// rowWeight()
double rowWeight(const LossArgs& a, double n, double tokens, double nonEmpty, double rows) {
  switch (a.agg) {
    case AggMode::TokenMean: return a.dpSize / (a.batchNumTokens != 0 ? a.batchNumTokens : tokens);
    case AggMode::SeqMeanTokenSum: return a.dpSize / (a.globalBatchSize != 0 ? a.globalBatchSize : nonEmpty);
    case AggMode::SeqMeanTokenMean: return a.dpSize / ((a.globalBatchSize != 0 ? a.globalBatchSize : nonEmpty) * countEps(n));
    case AggMode::SeqMeanTokenSumNorm: return 1 / a.lossScaleFactor;
    case AggMode::Grpo: return 1 / (rows * std::max(n, 1.0));
    case AggMode::Bnpo: return 1 / std::max(tokens, 1.0);
    case AggMode::DrGrpo: return 1 / (rows * a.maxCompletionLength);
    case AggMode::Dapo: return 1 / ((a.globalActiveTokens != 0 ? a.globalActiveTokens : tokens) / a.numProcesses);
  }
  return NAN;
}

struct Partial {
  double loss = 0, clipped = 0, lower = 0, kl = 0, tokens = 0, nonEmpty = 0;
};

// Rows [begin, end) in chunks of about kMinTokensPerThread tokens each (at least one row).
std::vector<std::pair<size_t, size_t>> rowChunks(const LossArgs& p) {
  std::vector<std::pair<size_t, size_t>> out;
  const size_t B = p.rows;
  const size_t want = std::max<size_t>(1, std::min<size_t>(hardware_threads() * 4, p.tokens / kMinTokensPerThread));
  const size_t per = std::max<size_t>(1, p.tokens / want);
  for (size_t r0 = 0; r0 < B;) {
    size_t r1 = r0 + 1;
    while (r1 < B && p.offsets[r1] - p.offsets[r0] < per) r1++;
    out.emplace_back(r0, r1);
    r0 = r1;
  }
  return out;
}

template <typename F>
void forChunks(const std::vector<std::pair<size_t, size_t>>& chunks, F&& fn) {
  parallel_for(chunks.size(), 1, [&](size_t b, size_t e) {
    for (size_t c = b; c < e; c++) fn(c, chunks[c].first, chunks[c].second);
  });
}

struct Rows {
  const double *n, *value, *loss;
  double tokens, nonEmpty, rows;
};

// The token loop of lossJs() for rows [r0, r1): loss, gradient and the partial sums.
template <LossKind K>
void tokenPass(const LossArgs& p, const Rows& w, size_t r0, size_t r1, Partial& q) {
  const uint32_t* off = p.offsets;
  const float* old = p.old ? p.old : p.x;
  const float* adv = p.adv ? p.adv : p.x;
  Term term;
  for (size_t i = r0; i < r1; i++) {
    const double rho = p.scale * rowWeight(p, w.n[i], w.tokens, w.nonEmpty, w.rows);
    const float rowRatio = K == LossKind::Gspo ? fexp(std::min(w.value[i], 10.0)) : 0.0f;
    double rowSum = 0, clipped = 0, lower = 0, kl = 0;
    for (size_t t = off[i]; t < off[i + 1]; t++) {
      if (p.mask != nullptr && p.mask[t] == 0) {
        if (p.outLoss) p.outLoss[t] = 0;
        p.outGrad[t] = p.accumulate ? p.outGrad[t] + 0.0f : 0.0f;
        continue;
      }
      float L;
      double g;
      if constexpr (K == LossKind::Gmpo) {
        gmpoToken(p, p.x[t], old[t], adv[t], term);
        L = static_cast<float>(w.loss[i]);
        g = w.value[i] * term.grad;
      } else {
        tokenTerms<K>(p, p.x[t], old[t], adv[t], w.value[i], rowRatio, term);
        L = term.loss;
        g = rho * term.grad;
        if (p.weights) { L = L * p.weights[t]; g *= p.weights[t]; }
        rowSum += L;
      }
      if (p.outLoss) p.outLoss[t] = L;
      p.outGrad[t] = p.accumulate ? p.outGrad[t] + static_cast<float>(g) : static_cast<float>(g);
      clipped += term.clipped;
      lower += term.lower;
      kl += term.kl;
    }
    q.clipped += clipped;
    q.lower += lower;
    q.kl += kl;
    q.loss += K == LossKind::Gmpo ? w.loss[i] / w.rows : rho * rowSum;
  }
}

#if REWARDKIT_VECTOR
// tokenPass for the kind in p: the vector kernels' scalar fallback for a row.
void scalarRows(const LossArgs& p, const Rows& w, size_t r0, size_t r1, Partial& q) {
  switch (p.kind) {
    case LossKind::Trl: tokenPass<LossKind::Trl>(p, w, r0, r1, q); break;
    case LossKind::Kl: tokenPass<LossKind::Kl>(p, w, r0, r1, q); break;
    case LossKind::Value: tokenPass<LossKind::Value>(p, w, r0, r1, q); break;
    case LossKind::Cispo: tokenPass<LossKind::Cispo>(p, w, r0, r1, q); break;
    default: tokenPass<LossKind::Vanilla>(p, w, r0, r1, q); break;
  }
}

// The vanilla PPO and TRL token loops (tokenTerms<Vanilla | Trl> + the aggregation of tokenPass) 8 or 16
// tokens at a time in f32: the reference's f32 operations, with branch-free selects in place of the branches
// (Math.min/max's NaN rule, clamp's NaN pass-through, torch's half-gradient ties), common/vexp.h's
// f32 exp (within 1 ulp of Math.fround(Math.exp(x)), as torch's own vectorised expf) and per-lane
// f64 row sums added in a fixed order. Untrained lanes are computed and then replaced by 0, so
// nothing read from padding reaches an output or a sum.
namespace lanes8 {
#include "loss_lanes.inc"
}  // namespace lanes8

#if defined(__x86_64__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace lanes16 {
#include "loss_lanes.inc"
}  // namespace lanes16
#pragma GCC pop_options

// Picked at load time (GCC function multiversioning): 16 lanes on AVX-512 (x86-64-v4), 8 on AVX2 and
// baseline x86-64. Bit-identical results: the same f32 operations per token, and per-lane f64 sums
// that see the same terms in the same order (vexp.h Sum16).
__attribute__((target("default"))) void laneRows(const LossArgs& p, const Rows& w, size_t r0, size_t r1, Partial& q) {
  lanes8::laneRowsAll<8>(p, w, r0, r1, q);
}
__attribute__((target("avx2"))) void laneRows(const LossArgs& p, const Rows& w, size_t r0, size_t r1, Partial& q) {
  lanes8::laneRowsAll<8>(p, w, r0, r1, q);
}
__attribute__((target("arch=x86-64-v4"))) void laneRows(const LossArgs& p, const Rows& w, size_t r0, size_t r1, Partial& q) {
  lanes16::laneRowsAll<16>(p, w, r0, r1, q);
}
#else
void laneRows(const LossArgs& p, const Rows& w, size_t r0, size_t r1, Partial& q) {
  lanes8::laneRowsAll<8>(p, w, r0, r1, q);
}
#endif
#endif

}  // namespace

LossTotals compute_loss(const LossArgs& p) {
  const size_t B = p.rows;
  const uint32_t* off = p.offsets;
  const float* old = p.old ? p.old : p.x;
  const float* adv = p.adv ? p.adv : p.x;
  const auto on = [&](size_t t) { return p.mask == nullptr || p.mask[t] != 0; };
  const bool gmpo = p.kind == LossKind::Gmpo, gspo = p.kind == LossKind::Gspo;
  const auto chunks = rowChunks(p);
  std::vector<Partial> parts(chunks.size());

  // Pass 1, per row: trained tokens, the GSPO log-ratio, GMPO's row loss.
  std::vector<double> n(B), rowValue(B), rowLoss(B);
  forChunks(chunks, [&](size_t c, size_t r0, size_t r1) {
    Term term;
    for (size_t i = r0; i < r1; i++) {
      double k = 0, s = 0, sa = 0, sw = 0;
      if (!gspo && !gmpo && p.mask == nullptr) k = off[i + 1] - off[i];
      else if (!gspo && !gmpo) {
        size_t trained = 0;  // an integer count vectorises; an f64 one would not
        for (size_t t = off[i]; t < off[i + 1]; t++) trained += p.mask[t] != 0;
        k = static_cast<double>(trained);
      } else {
        for (size_t t = off[i]; t < off[i + 1]; t++) {
          if (!on(t)) continue;
          k++;
          if (gspo) {
            s += static_cast<float>(p.x[t] - old[t]);
          } else {
            gmpoToken(p, p.x[t], old[t], adv[t], term);
            s += term.loss;
            sa += adv[t];
            if (p.weights) sw += static_cast<float>(std::log(static_cast<double>(static_cast<float>(p.weights[t] + 1e-10f))));
          }
        }
      }
      n[i] = k;
      parts[c].tokens += k;
      parts[c].nonEmpty += k > 0;
      if (gspo) rowValue[i] = static_cast<float>(s / std::max(k, 1.0));
      if (gmpo) {
        const double ne = countEps(k);
        const float ratio = fexp(static_cast<float>(s / ne)), a = static_cast<float>(sa / ne);
        float pg = -a * ratio;
        if (p.weights) pg = pg * fexp(static_cast<float>(sw / ne));
        rowLoss[i] = pg;
        rowValue[i] = pg / ne / static_cast<double>(B);
      }
    }
  });
  double tokens = 0, nonEmpty = 0;
  for (const auto& q : parts) { tokens += q.tokens; nonEmpty += q.nonEmpty; }

  // Pass 2, per token (one instantiation per kind).
  const Rows rowsInfo{n.data(), rowValue.data(), rowLoss.data(), tokens, nonEmpty, static_cast<double>(B)};
  forChunks(chunks, [&](size_t c, size_t r0, size_t r1) {
    switch (p.kind) {
#if REWARDKIT_VECTOR
      case LossKind::Vanilla:
        if (p.accumulate) tokenPass<LossKind::Vanilla>(p, rowsInfo, r0, r1, parts[c]);
        else laneRows(p, rowsInfo, r0, r1, parts[c]);
        break;
      case LossKind::Trl:
        if (p.accumulate) tokenPass<LossKind::Trl>(p, rowsInfo, r0, r1, parts[c]);
        else laneRows(p, rowsInfo, r0, r1, parts[c]);
        break;
#else
      case LossKind::Vanilla: tokenPass<LossKind::Vanilla>(p, rowsInfo, r0, r1, parts[c]); break;
      case LossKind::Trl: tokenPass<LossKind::Trl>(p, rowsInfo, r0, r1, parts[c]); break;
#endif
      case LossKind::Gspo: tokenPass<LossKind::Gspo>(p, rowsInfo, r0, r1, parts[c]); break;
#if REWARDKIT_VECTOR
      case LossKind::Cispo:
        if (p.accumulate) tokenPass<LossKind::Cispo>(p, rowsInfo, r0, r1, parts[c]);
        else laneRows(p, rowsInfo, r0, r1, parts[c]);
        break;
#else
      case LossKind::Cispo: tokenPass<LossKind::Cispo>(p, rowsInfo, r0, r1, parts[c]); break;
#endif
      case LossKind::Sapo: tokenPass<LossKind::Sapo>(p, rowsInfo, r0, r1, parts[c]); break;
      case LossKind::Gpg: tokenPass<LossKind::Gpg>(p, rowsInfo, r0, r1, parts[c]); break;
      case LossKind::Gmpo: tokenPass<LossKind::Gmpo>(p, rowsInfo, r0, r1, parts[c]); break;
      case LossKind::Identity: tokenPass<LossKind::Identity>(p, rowsInfo, r0, r1, parts[c]); break;
#if REWARDKIT_VECTOR
      case LossKind::Value:
        if (p.weights) tokenPass<LossKind::Value>(p, rowsInfo, r0, r1, parts[c]);
        else laneRows(p, rowsInfo, r0, r1, parts[c]);
        break;
#else
      case LossKind::Value: tokenPass<LossKind::Value>(p, rowsInfo, r0, r1, parts[c]); break;
#endif
#if REWARDKIT_VECTOR
      case LossKind::Kl:
        if (p.weights) tokenPass<LossKind::Kl>(p, rowsInfo, r0, r1, parts[c]);
        else laneRows(p, rowsInfo, r0, r1, parts[c]);
        break;
#else
      case LossKind::Kl: tokenPass<LossKind::Kl>(p, rowsInfo, r0, r1, parts[c]); break;
#endif
    }
  });
  const double rows = static_cast<double>(B);

  LossTotals out;
  double clipped = 0, lower = 0, kl = 0, loss = 0;
  for (const auto& q : parts) { loss += q.loss; clipped += q.clipped; lower += q.lower; kl += q.kl; }
  if (!gmpo && !std::isfinite(rowWeight(p, 1, tokens, nonEmpty, rows))) loss = NAN;
  const double ne = countEps(tokens);
  out.loss = static_cast<float>(loss);
  out.clipfrac = static_cast<float>(clipped / ne);
  out.ppoKl = static_cast<float>(kl / ne);
  out.clipfracLower = static_cast<float>(lower / ne);
  return out;
}

Napi::Value PolicyLoss(const Napi::CallbackInfo& info) {
  OpArgs a(info, "lossKernel");
  LossArgs p;
  p.rows = a.size("rows");
  p.tokens = a.size("tokens");
  p.offsets = a.offsets("offsets", p.rows, p.tokens);
  p.mask = a.optional<uint8_t>("mask", p.tokens);
  p.kind = static_cast<LossKind>(a.choice("kind", 10));
  p.estimator = a.choice("estimator", 4);
  p.agg = static_cast<AggMode>(a.choice("agg", 8));
  p.x = a.array<float>("x", p.tokens);
  const bool identity = p.kind == LossKind::Identity;
  if (!identity) p.old = a.array<float>("old", p.tokens);
  if (!identity && p.kind != LossKind::Kl) p.adv = a.array<float>("adv", p.tokens);
  p.outLoss = a.optional<float>("outLoss", p.tokens);  // null: the per-token loss is not wanted
  p.weights = a.optional<float>("weights", p.tokens);
  p.dpSize = a.number("dpSize");
  p.batchNumTokens = a.number("batchNumTokens");
  p.globalBatchSize = a.number("globalBatchSize");
  p.lossScaleFactor = a.number("lossScaleFactor");
  p.maxCompletionLength = a.number("maxCompletionLength");
  p.numProcesses = a.number("numProcesses");
  p.globalActiveTokens = a.number("globalActiveTokens");
  p.lo = static_cast<float>(a.number("lo"));
  p.hi = static_cast<float>(a.number("hi"));
  p.clipC = static_cast<float>(a.number("clipC"));
  p.delta = static_cast<float>(a.number("delta"));
  p.tauPos = static_cast<float>(a.number("tauPos"));
  p.tauNeg = static_cast<float>(a.number("tauNeg"));
  p.cliprange = static_cast<float>(a.number("cliprange"));
  p.scale = a.number("scale");
  p.outGrad = a.array<float>("outGrad", p.tokens);
  p.accumulate = a.flag("accumulate");
  return a.queue([p](Outputs& r) {
    const LossTotals t = compute_loss(p);
    r.emplace_back("loss", t.loss);
    r.emplace_back("clipfrac", t.clipfrac);
    r.emplace_back("ppoKl", t.ppoKl);
    r.emplace_back("clipfracLower", t.clipfracLower);
  });
}

REWARDKIT_OP("lossKernel", PolicyLoss);

}  // namespace rewardkit
