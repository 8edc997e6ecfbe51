// Per-row GRPO advantage from the group statistics (see grpo_group_stats.wgsl for the scaled,
// shifted form): num = (s·2^-e − c) − mean_d, then ÷ (std + ε·2^-e) for `group`, the batch std for
// `batch`, or ×2^e for `none`. TRL: NaN scores, groups without a std and NaN results give 0.

struct Params { rows: u32, scale: u32, trl: u32, _p: u32, epsilon: f32, _q0: u32, _q1: u32, _q2: u32 }
struct Stat { n: u32, e: i32, c: f32, mean_d: f32, std_u: f32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> row_scores: array<f32>;
@group(0) @binding(2) var<storage, read> group_ids: array<u32>;
@group(0) @binding(3) var<storage, read> stats: array<Stat>;
@group(0) @binding(4) var<storage, read> batch: array<Stat>;
@group(0) @binding(5) var<storage, read_write> row_adv: array<f32>;

fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

fn advantage(s: f32, st: Stat) -> f32 {
  let trl = P.trl != 0u;
  if (trl && (is_nan(s) || st.n == 0u)) { return 0.0; }
  let num = (ldexp(s, -st.e) - st.c) - st.mean_d;
  if (P.scale == 2u) { return ldexp(num, st.e); }
  if (num == 0.0) { return 0.0; } // all-equal groups: 0/(0+ε) even where ε·2^-e underflows
  if (P.scale == 0u) {
    if (trl && st.n < 2u) { return 0.0; }
    return num / (st.std_u + ldexp(P.epsilon, -st.e));
  }
  let b = batch[0];
  if (trl && b.n < 2u) { return 0.0; }
  return ldexp(num, max(st.e - b.e, -126)) / (b.std_u + ldexp(P.epsilon, -b.e));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.rows) { return; }
  var a = advantage(row_scores[i], stats[group_ids[i]]);
  if (P.trl != 0u && is_nan(a)) { a = 0.0; }
  row_adv[i] = a;
}
