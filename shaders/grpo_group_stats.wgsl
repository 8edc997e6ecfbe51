// Group statistics for GRPO: count, mean and Bessel std of each group's row scores.
// Values are scaled by 2^-e (e = exponent of the group's largest |s|, exact in binary) so huge
// scores never overflow, and shifted by the first member c so all-equal groups give exactly 0 and
// near-equal ones keep their differences exactly: mean = c + mean_d, all in scaled units.
// verl: a group of one gets mean 0 and std 1. TRL: NaN scores are skipped (missing rewards).

struct Params {
  groups: u32,
  trl: u32,
  identity: u32, // 1: one group made of rows 0..rows-1 (batch statistics)
  rows: u32,
}

struct Stat { n: u32, e: i32, c: f32, mean_d: f32, std_u: f32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> row_scores: array<f32>;
@group(0) @binding(2) var<storage, read> group_start: array<u32>;
@group(0) @binding(3) var<storage, read> members: array<u32>;
@group(0) @binding(4) var<storage, read_write> stats: array<Stat>;

override WG: u32 = 256;
var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_k: array<u32, WG>;

fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn valid(x: f32) -> bool { return P.trl == 0u || !is_nan(x); }

fn range_of(g: u32) -> vec2<u32> {
  if (P.identity != 0u) { return vec2<u32>(0u, P.rows); }
  return vec2<u32>(group_start[g], group_start[g + 1u]);
}
fn score(k: u32) -> f32 {
  if (P.identity != 0u) { return row_scores[k]; }
  return row_scores[members[k]];
}
fn exponent(maxabs: f32) -> i32 {
  if (maxabs == 0.0) { return 0; }
  return clamp(frexp(maxabs).exp, -100, 127);
}

fn store(g: u32, n: u32, e: i32, c: f32, mean_d: f32, ss: f32, first: f32) {
  var s: Stat;
  s.n = n; s.e = e; s.c = c; s.mean_d = mean_d;
  s.std_u = select(0.0, sqrt(ss / f32(n - 1u)), n > 1u);
  if (P.trl == 0u && n == 1u) { // verl: mean 0, std 1 (so s/(1+ε)), in units of 2^e
    s.e = exponent(abs(first)); s.c = 0.0; s.mean_d = 0.0; s.std_u = ldexp(1.0, -s.e);
  }
  stats[g] = s;
}

// Small groups: one thread per group.
@compute @workgroup_size(64)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.x + gid.y * nwg.x * 64u;
  if (g >= P.groups) { return; }
  let r = range_of(g);
  var n = 0u; var maxabs = 0.0; var first = 0.0;
  for (var k = r.x; k < r.y; k++) {
    let s = score(k);
    if (valid(s)) { if (n == 0u) { first = s; } n++; maxabs = max(maxabs, abs(s)); }
  }
  let e = exponent(maxabs);
  let c = ldexp(first, -e);
  var sum = 0.0;
  for (var k = r.x; k < r.y; k++) { let s = score(k); if (valid(s)) { sum += ldexp(s, -e) - c; } }
  let mean_d = select(0.0, sum / f32(n), n > 0u);
  var ss = 0.0;
  for (var k = r.x; k < r.y; k++) { let s = score(k); if (valid(s)) { let d = (ldexp(s, -e) - c) - mean_d; ss += d * d; } }
  store(g, n, e, c, mean_d, ss, first);
}

fn tree_sum(lid: u32, v: f32) -> f32 {
  workgroupBarrier();
  red_f[lid] = v;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red_f[lid] += red_f[lid + w]; }
  }
  workgroupBarrier();
  return red_f[0];
}

// Large groups (and batch statistics): one workgroup per group, blocked strided sums, tree reductions.
@compute @workgroup_size(WG)
fn per_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  let in_range = g < P.groups;
  var r = vec2<u32>(0u, 0u);
  if (in_range) { r = range_of(g); }
  // Pass 1: count, largest |s|, first valid member.
  var n = 0u; var maxabs = 0.0; var kfirst = 0xffffffffu;
  for (var k = r.x + lid; k < r.y; k += WG) {
    let s = score(k);
    if (valid(s)) { n++; maxabs = max(maxabs, abs(s)); kfirst = min(kfirst, k); }
  }
  red_u[lid] = n; red_f[lid] = maxabs; red_k[lid] = kfirst;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) {
      red_u[lid] += red_u[lid + w];
      red_f[lid] = max(red_f[lid], red_f[lid + w]);
      red_k[lid] = min(red_k[lid], red_k[lid + w]);
    }
  }
  workgroupBarrier();
  let total = red_u[0];
  let e = exponent(red_f[0]);
  var first = 0.0;
  if (in_range && total > 0u) { first = score(red_k[0]); }
  let c = ldexp(first, -e);
  // Pass 2: mean of the shifted values.
  var acc = 0.0; var block = 0.0; var j = 0u;
  for (var k = r.x + lid; k < r.y; k += WG) {
    let s = score(k);
    if (valid(s)) { block += ldexp(s, -e) - c; j++; if ((j & 15u) == 0u) { acc += block; block = 0.0; } }
  }
  let sum = tree_sum(lid, acc + block);
  let mean_d = select(0.0, sum / f32(total), total > 0u);
  // Pass 3: squared deviations.
  acc = 0.0; block = 0.0; j = 0u;
  for (var k = r.x + lid; k < r.y; k += WG) {
    let s = score(k);
    if (valid(s)) { let d = (ldexp(s, -e) - c) - mean_d; block += d * d; j++; if ((j & 15u) == 0u) { acc += block; block = 0.0; } }
  }
  let ss = tree_sum(lid, acc + block);
  if (lid == 0u && in_range) { store(g, total, e, c, mean_d, ss, first); }
}
