// Token values from row values: out[t] = row_value[row(t)] where the token is trained, +0 elsewhere
// (whatever the row value is, so a NaN/Inf never reaches padding). Rows by CSR offsets (padded rows
// are i·T: found by division); an optional u8 mask. Four tokens per thread, one chunk of tokens per
// dispatch so every binding stays under maxStorageBufferBindingSize.

struct Params {
  tokens: u32,      // tokens in this chunk
  token_start: u32, // global index of the chunk's first token (a multiple of 1024)
  cols: u32,        // T for the padded layout, 0 for packed
  has_mask: u32,
  rows: u32,
  mask_base: u32,   // byte index of the chunk's first token in the `mask` binding
  _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> row_value: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;

//! include row_of

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = gid.x + gid.y * nwg.x * 256u;
  let first = q * 4u;
  if (first >= P.tokens) { return; }
  var v = vec4<f32>(0.0);
  var row = row_of(P.token_start + first);
  for (var j = 0u; j < 4u; j++) {
    let local = first + j;
    if (local >= P.tokens) { break; }
    let t = P.token_start + local;
    while (t >= offsets[row + 1u]) { row++; }
    var on = true;
    if (P.has_mask != 0u) { let m = P.mask_base + local; on = ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u; }
    v[j] = select(0.0, row_value[row], on);
  }
  out[q] = v;
}
