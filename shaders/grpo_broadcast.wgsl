// Token advantages: a_i·M[i,t] (padded; 0 where the mask is 0, whatever a_i is) or a_i over each
// row's CSR segment (packed). Four tokens per thread, written as one vec4; one chunk of tokens per
// dispatch so every binding stays under maxStorageBufferBindingSize.

struct Params {
  tokens: u32,      // tokens in this chunk
  token_start: u32, // global index of the chunk's first token (a multiple of 1024)
  cols: u32,        // T for the padded layout, 0 for packed
  flags: u32,       // bit 1: f32 mask (else u8)
  rows: u32,
  mask_base: u32,   // index of the chunk's first token in the `mask` binding
  _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> row_adv: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;

fn mask_value(local: u32) -> f32 {
  let m = P.mask_base + local;
  if ((P.flags & 2u) != 0u) { return bitcast<f32>(mask[m]); }
  return f32((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu);
}

//! include row_of

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = gid.x + gid.y * nwg.x * 256u;
  let first = q * 4u;
  if (first >= P.tokens) { return; }
  var v = vec4<f32>(0.0);
  var row = 0u;
  if (P.cols == 0u) { row = row_of(P.token_start + first); }
  for (var j = 0u; j < 4u; j++) {
    let local = first + j;
    if (local >= P.tokens) { break; }
    let t = P.token_start + local;
    if (P.cols == 0u) {
      while (t >= offsets[row + 1u]) { row++; }
      v[j] = row_adv[row];
    } else {
      let m = mask_value(local);
      let zero = (bitcast<u32>(m) & 0x7fffffffu) == 0u;
      v[j] = select(row_adv[t / P.cols] * m, 0.0, zero);
    }
  }
  out[q] = v;
}
