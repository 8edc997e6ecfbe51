// DAPO dynamic sampling: a group is kept when its row scores are not all equal (exact comparison;
// ±0 are equal), or when it has a single row and singletons are kept (verl's recipe).
// One thread per group.

struct Params { groups: u32, keep_singletons: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> row_scores: array<f32>;
@group(0) @binding(2) var<storage, read> group_start: array<u32>;
@group(0) @binding(3) var<storage, read> members: array<u32>;
@group(0) @binding(4) var<storage, read_write> kept: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.x + gid.y * nwg.x * 64u;
  if (g >= P.groups) { return; }
  let a = group_start[g];
  let b = group_start[g + 1u];
  let first = row_scores[members[a]];
  var varied = false;
  for (var k = a + 1u; k < b; k++) { if (row_scores[members[k]] != first) { varied = true; } }
  kept[g] = select(0u, 1u, varied || (P.keep_singletons != 0u && b - a == 1u));
}
