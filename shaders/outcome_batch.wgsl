// Batch-level finishing of the outcome estimators, one workgroup over every row:
// - gpg (mode 0): α = B / max(count_nonzero(s), 1); a ← α·a / f_norm.
// - reinforce++-baseline (mode 1): verl masked_whiten over the trained tokens, where each of row i's
//   L_i tokens holds a_i: mean = Σ L·a / ΣL, var = Σ L·(a − mean)² / (ΣL − 1), a ← (a − mean)·
//   rsqrt(var + 1e-8), in units of 2^-e (e = exponent of the largest |a| of a non-empty row) so the
//   squares never overflow. status[1] receives ΣL (the caller raises for ΣL ≤ 1).

struct Params { rows: u32, mode: u32, _p0: u32, _p1: u32, f_norm: f32, _q0: u32, _q1: u32, _q2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> row_scores: array<f32>;
@group(0) @binding(2) var<storage, read> row_len: array<u32>;
@group(0) @binding(3) var<storage, read_write> row_adv: array<f32>;
@group(0) @binding(4) var<storage, read_write> status: array<u32>;

const WG: u32 = 256u;
var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;

fn sum_f(lid: u32, v: f32) -> f32 {
  workgroupBarrier();
  red_f[lid] = v;
  for (var w = WG / 2u; w > 0u; w /= 2u) { workgroupBarrier(); if (lid < w) { red_f[lid] += red_f[lid + w]; } }
  workgroupBarrier();
  return red_f[0];
}
fn max_f(lid: u32, v: f32) -> f32 {
  workgroupBarrier();
  red_f[lid] = v;
  for (var w = WG / 2u; w > 0u; w /= 2u) { workgroupBarrier(); if (lid < w) { red_f[lid] = max(red_f[lid], red_f[lid + w]); } }
  workgroupBarrier();
  return red_f[0];
}
fn sum_u(lid: u32, v: u32) -> u32 {
  workgroupBarrier();
  red_u[lid] = v;
  for (var w = WG / 2u; w > 0u; w /= 2u) { workgroupBarrier(); if (lid < w) { red_u[lid] += red_u[lid + w]; } }
  workgroupBarrier();
  return red_u[0];
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  if (P.mode == 0u) {
    var nnz = 0u;
    for (var i = lid; i < P.rows; i += WG) { nnz += select(0u, 1u, row_scores[i] != 0.0); }
    let alpha = f32(P.rows) / f32(max(sum_u(lid, nnz), 1u));
    for (var i = lid; i < P.rows; i += WG) { row_adv[i] = (alpha * row_adv[i]) / P.f_norm; }
    return;
  }
  var total = 0u; var maxabs = 0.0;
  for (var i = lid; i < P.rows; i += WG) {
    let l = row_len[i];
    total += l;
    if (l > 0u) { maxabs = max(maxabs, abs(row_adv[i])); }
  }
  let n = sum_u(lid, total);
  let m = max_f(lid, maxabs);
  var e = 0;
  if (m > 0.0) { e = clamp(frexp(m).exp, -100, 127); }
  var acc = 0.0;
  for (var i = lid; i < P.rows; i += WG) { acc += f32(row_len[i]) * ldexp(row_adv[i], -e); }
  // verl's mean is Σ/(ΣL + 1e-8) with the divisor held in f32, where it is exactly ΣL (ΣL >= 2).
  let m_x = sum_f(lid, acc) / f32(n);
  acc = 0.0;
  for (var i = lid; i < P.rows; i += WG) { let d = ldexp(row_adv[i], -e) - m_x; acc += f32(row_len[i]) * d * d; }
  let var_x = sum_f(lid, acc) / (f32(n) - 1.0);
  let tiny = ldexp(1e-8, clamp(-2 * e, -140, 120));
  let inv = inverseSqrt(var_x + tiny);
  workgroupBarrier();
  // A zero variance whose 1e-8 underflowed in units of 2^-2e (huge equal values): rsqrt(1e-8) = 1e4
  // applied in real units (an empty row's advantage a − mean is then finite, not ∞).
  let flat = var_x == 0.0 && tiny == 0.0;
  for (var i = lid; i < P.rows; i += WG) {
    let d = ldexp(row_adv[i], -e) - m_x;
    row_adv[i] = select(d * inv, ldexp(d, e) * 1e4, flat);
  }
  if (lid == 0u) { status[1] = n; }
}
