// Process supervision, token advantages: for each row (one thread), place every step's normalised
// reward at its end token and take the reverse cumulative sum, so token t gets the sum over steps
// ending at or after t; untrained tokens get 0. The running sum is f32 (error ~ n·2^-24 of the row's
// Σ|r̃| at worst). One chunk of whole rows per dispatch (token bindings under the binding limit).

struct Params {
  row_start: u32,
  row_count: u32,
  token_start: u32, // global index of the chunk's first token
  out_base: u32,    // index of that token in the `out` binding
  mask_base: u32,   // byte index of that token in the `mask` binding
  has_mask: u32,
  _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> step_adv: array<f32>;
@group(0) @binding(2) var<storage, read> step_offsets: array<u32>;
@group(0) @binding(3) var<storage, read> step_ends: array<u32>;
@group(0) @binding(4) var<storage, read> offsets: array<u32>;
@group(0) @binding(5) var<storage, read> mask: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= P.row_count) { return; }
  let row = P.row_start + r;
  let local = offsets[row] - P.token_start;
  let a = P.out_base + local;
  let n = offsets[row + 1u] - offsets[row];
  for (var t = 0u; t < n; t++) { out[a + t] = 0.0; }
  for (var j = step_offsets[row]; j < step_offsets[row + 1u]; j++) { out[a + step_ends[j]] += step_adv[j]; }
  var run = 0.0;
  for (var k = 0u; k < n; k++) {
    let t = n - 1u - k;
    run += out[a + t];
    var on = true;
    if (P.has_mask != 0u) { let m = P.mask_base + local + t; on = ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u; }
    out[a + t] = select(0.0, run, on);
  }
}
