// The fused scoring pipeline (lib/scoring/pipeline.gpu.ts): reward heads' scores [B, K] (rows
// r0 .. r0 + n of heads_finish's output, without constants) → one ensemble chunk [K, n] with each
// head's constant (bias / b2) added, the layout scoring_ensemble.wgsl reads. One thread per value.

struct Params {
  count: u32,  // n·K values in this dispatch
  heads: u32,  // K
  inBase: u32, // index in `scores` of row r0's first head
  rows: u32,   // n: the row stride of `out`
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> constants: array<f32>; // [K]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.y * nwg.x * 64u + gid.x;
  if (i >= params.count) { return; }
  let row = i / params.heads;
  let k = i % params.heads;
  out[k * params.rows + row] = constants[k] + scores[params.inBase + i];
}
