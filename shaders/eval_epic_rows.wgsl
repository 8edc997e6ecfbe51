// EPIC, step 1 (lib/eval/epic.ref.ts canonicalizeTabular): the mean reward of each (s, a) row over
// next states, weighted by the state distribution (or uniform). One thread per row; the host turns
// these into the potentials m(s) and m̄ in f64.

struct Params {
  rows: u32,     // rows in this dispatch
  states: u32,   // S, the row length
  base: u32,     // index in `reward` of the first element of the first row
  outBase: u32,  // index in `out` of the first row
  hasDist: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> reward: array<f32>;
@group(0) @binding(2) var<storage, read> stateDist: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.y * nwg.x * 64u + gid.x;
  if (row >= params.rows) { return; }
  let S = params.states;
  var acc = 0.0;
  for (var t = 0u; t < S; t = t + 1u) {
    let x = reward[params.base + row * S + t];
    if (params.hasDist != 0u) { acc = acc + stateDist[t] * x; } else { acc = acc + x; }
  }
  if (params.hasDist == 0u) { acc = acc / f32(S); }
  out[params.outBase + row] = acc;
}
