// Potential-based shaping (`shaping`: r + γΦ(s') − Φ(s)) and Robo-Dopamine progress (`progress`),
// one thread per trajectory over its ragged steps (CSR offsets).

struct Params {
  rows: u32,
  offBase: u32,  // index in offsets of the first trajectory
  first: u32,    // offsets value of the first trajectory
  dataBase: u32, // index in the step arrays of the first step
  phiBase: u32,  // shaping: index in potentials of the first trajectory's Φ(s_0)
  flags: u32,    // shaping: bit 0 = potentials include each final state; progress: mode | inverse << 2 | rawFirst << 3
  pad0: u32,
  gamma: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;   // rewards or hops
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> potentials: array<f32>; // shaping only (last: progress binds 1-3)

fn rowIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.y * nwg.x * 64u + gid.x; }

@compute @workgroup_size(64)
fn shaping(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = rowIndex(gid, nwg);
  if (i >= params.rows) { return; }
  let s0 = offsets[params.offBase + i] - params.first;
  let s1 = offsets[params.offBase + i + 1u] - params.first;
  let withFinal = (params.flags & 1u) != 0u;
  var k = params.phiBase + s0;
  if (withFinal) { k = k + i; }
  for (var t = s0; t < s1; t = t + 1u) {
    var next = 0.0;
    if (withFinal || t + 1u < s1) { next = potentials[k + 1u]; }
    out[params.dataBase + t] = values[params.dataBase + t] + params.gamma * next - potentials[k];
    k = k + 1u;
  }
}

fn hopStep(p: f32, h: f32) -> f32 { return select(p + p * h, p + (1.0 - p) * h, h >= 0.0); }

@compute @workgroup_size(64)
fn progress(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = rowIndex(gid, nwg);
  if (i >= params.rows) { return; }
  let s0 = offsets[params.offBase + i] - params.first + params.dataBase;
  let s1 = offsets[params.offBase + i + 1u] - params.first + params.dataBase;
  let mode = params.flags & 3u;
  if (mode == 1u) { for (var t = s0; t < s1; t = t + 1u) { out[t] = values[t]; } return; }
  if (mode == 2u) { for (var t = s0; t < s1; t = t + 1u) { out[t] = 1.0 + values[t]; } return; }
  if ((params.flags & 4u) != 0u) {
    var p = 1.0;
    for (var t = s1; t > s0; t = t - 1u) { p = hopStep(p, values[t - 1u]); out[t - 1u] = p; }
  } else {
    var p = 0.0;
    for (var t = s0; t < s1; t = t + 1u) {
      if ((params.flags & 8u) != 0u && t == s0) { p = values[t]; } else { p = hopStep(p, values[t]); }
      out[t] = p;
    }
  }
}
