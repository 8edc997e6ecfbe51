// Row advantages of the outcome estimators, one thread per group (groups are small: a GRPO group is
// a prompt's samples). Numerically careful in f32, as grpo_group_stats.wgsl: every score is scaled
// by 2^-e (e = exponent of the group's largest |s|; exact) and shifted by the first member c, so
// huge scores never overflow, all-equal groups give exactly 0 and near-equal ones keep their
// differences: x = s·2^-e − c, mean = (c + mean_x)·2^e, s − mean = (x − mean_x)·2^e.
// Codes (outcome.ts builtinCodes): 0 grpo_vectorized, 1 rloo, 2 rloo_vectorized,
// 3 reinforce++-baseline (s − mean; whitened by outcome_batch), 4 gpg (s − mean; ×α/f_norm by
// outcome_batch), 5 opo, 6 grpo_passk, 7 group_norm.

struct Params {
  groups: u32,
  estimator: u32,
  norm_by_std: u32,
  _p0: u32,
  epsilon: f32,
  clip: f32,
  _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> row_scores: array<f32>;
@group(0) @binding(2) var<storage, read> row_len: array<u32>;
@group(0) @binding(3) var<storage, read> group_start: array<u32>;
@group(0) @binding(4) var<storage, read> members: array<u32>;
@group(0) @binding(5) var<storage, read_write> row_adv: array<f32>;

fn exponent(maxabs: f32) -> i32 {
  if (maxabs == 0.0) { return 0; }
  return clamp(frexp(maxabs).exp, -100, 127);
}
// x·2^k with k clamped so the result neither overflows nor is indeterminate; used for ε terms,
// where a clamped value is already far above (or below) anything it is compared with.
fn scaled(x: f32, k: i32) -> f32 { return ldexp(x, clamp(k, -140, 120)); }

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.x + gid.y * nwg.x * 64u;
  if (g >= P.groups) { return; }
  let a = group_start[g];
  let b = group_start[g + 1u];
  let n = b - a;
  let nf = f32(n);
  var maxabs = 0.0;
  for (var k = a; k < b; k++) { maxabs = max(maxabs, abs(row_scores[members[k]])); }
  let e = exponent(maxabs);
  let c = ldexp(row_scores[members[a]], -e);
  var sum = 0.0;
  for (var k = a; k < b; k++) { sum += ldexp(row_scores[members[k]], -e) - c; }
  let mean_x = sum / nf;
  var ss = 0.0;
  for (var k = a; k < b; k++) { let d = (ldexp(row_scores[members[k]], -e) - c) - mean_x; ss += d * d; }
  let std_x = sqrt(ss / (nf - 1.0)); // Bessel std in units of 2^e (NaN for n = 1, unused there)
  let eps_x = scaled(P.epsilon, -e);

  // opo: baseline Σ L·s / Σ L (shifted), 0 for a group of one.
  var base_x = mean_x;
  if (P.estimator == 5u) {
    var sl = 0.0; var sx = 0.0;
    for (var k = a; k < b; k++) {
      let i = members[k];
      let l = f32(row_len[i]);
      sl += l; sx += l * (ldexp(row_scores[i], -e) - c);
    }
    base_x = sx / sl; // NaN when every row of the group is empty
  }
  // grpo_passk: the first best row and the runner-up.
  var best = members[a];
  var second = -3.4e38;
  var has_second = false;
  if (P.estimator == 6u) {
    for (var k = a; k < b; k++) { let i = members[k]; if (row_scores[i] > row_scores[best]) { best = i; } }
    for (var k = a; k < b; k++) {
      let i = members[k];
      if (i != best && (!has_second || row_scores[i] > second)) { second = row_scores[i]; has_second = true; }
    }
  }

  for (var k = a; k < b; k++) {
    let i = members[k];
    let s = row_scores[i];
    let d = (ldexp(s, -e) - c) - mean_x; // (s − mean)·2^-e
    var v = 0.0;
    switch (P.estimator) {
      case 0u: { // grpo_vectorized: std = sqrt(max(var, ε)); group of one → mean 0, std 1
        if (n == 1u) { v = select(s, s / (1.0 + P.epsilon), P.norm_by_std != 0u); }
        else if (P.norm_by_std == 0u) { v = ldexp(d, e); }
        else {
          let sd = sqrt(max(ss / max(nf - 1.0, 1.0), scaled(P.epsilon, -2 * e)));
          v = select(d / (sd + eps_x), 0.0, d == 0.0);
        }
      }
      case 1u: { v = select(s, ldexp(d, e) * (nf / (nf - 1.0)), n > 1u); } // rloo
      case 2u: { v = select(0.0, ldexp(d, e) * (nf / (nf - 1.0)), n > 1u); } // rloo_vectorized
      case 3u, 4u: { v = select(s, ldexp(d, e), n > 1u); } // s − mean (0 for a group of one)
      case 5u: { v = select(s, ldexp((ldexp(s, -e) - c) - base_x, e), n > 1u); } // opo
      case 6u: { // grpo_passk
        if (i == best) {
          let adv = s - second;
          if (P.norm_by_std == 0u) { v = adv; }
          else { v = select(ldexp(adv, -e) / (std_x + eps_x), 0.0, adv == 0.0); }
        }
      }
      default: { // group_norm: (s − mean)/(std_u + ε), clamped
        v = clamp(select(d / (std_x + eps_x), 0.0, d == 0.0), -P.clip, P.clip);
      }
    }
    row_adv[i] = v;
  }
}
