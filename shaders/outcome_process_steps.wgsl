// Process supervision: normalise every step reward of a group together, r̃ = (r − mean_g)/(std_u(g) + ε)
// (a group with one step: mean 0, std 1). One thread per group; the group's steps are its member
// rows' CSR step ranges. Scaled by 2^-e and shifted by the first step reward as in
// outcome_group_adv.wgsl, so huge rewards never overflow and equal ones give exactly 0.

struct Params { groups: u32, _p0: u32, _p1: u32, _p2: u32, epsilon: f32, _q0: u32, _q1: u32, _q2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> step_rewards: array<f32>;
@group(0) @binding(2) var<storage, read> step_offsets: array<u32>;
@group(0) @binding(3) var<storage, read> group_start: array<u32>;
@group(0) @binding(4) var<storage, read> members: array<u32>;
@group(0) @binding(5) var<storage, read_write> step_adv: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.x + gid.y * nwg.x * 64u;
  if (g >= P.groups) { return; }
  var n = 0u; var maxabs = 0.0; var first = 0.0;
  for (var k = group_start[g]; k < group_start[g + 1u]; k++) {
    let i = members[k];
    for (var j = step_offsets[i]; j < step_offsets[i + 1u]; j++) {
      if (n == 0u) { first = step_rewards[j]; }
      n++; maxabs = max(maxabs, abs(step_rewards[j]));
    }
  }
  if (n == 0u) { return; }
  var e = 0;
  if (maxabs > 0.0) { e = clamp(frexp(maxabs).exp, -100, 127); }
  let c = ldexp(first, -e);
  var sum = 0.0;
  for (var k = group_start[g]; k < group_start[g + 1u]; k++) {
    let i = members[k];
    for (var j = step_offsets[i]; j < step_offsets[i + 1u]; j++) { sum += ldexp(step_rewards[j], -e) - c; }
  }
  let mean_x = sum / f32(n);
  var ss = 0.0;
  for (var k = group_start[g]; k < group_start[g + 1u]; k++) {
    let i = members[k];
    for (var j = step_offsets[i]; j < step_offsets[i + 1u]; j++) { let d = (ldexp(step_rewards[j], -e) - c) - mean_x; ss += d * d; }
  }
  let std_x = sqrt(ss / (f32(n) - 1.0));
  let eps_x = ldexp(P.epsilon, clamp(-e, -140, 120));
  for (var k = group_start[g]; k < group_start[g + 1u]; k++) {
    let i = members[k];
    for (var j = step_offsets[i]; j < step_offsets[i + 1u]; j++) {
      let r = step_rewards[j];
      if (n == 1u) { step_adv[j] = r / (1.0 + P.epsilon); continue; }
      let d = (ldexp(r, -e) - c) - mean_x;
      step_adv[j] = select(d / (std_x + eps_x), 0.0, d == 0.0);
    }
  }
}
