// Sum of squared differences of two latent tensors per block (lib/diffusion/loss.ref.ts latentRowsJs).
// The host cuts every row into blocks of at most 4,096 elements that never cross a row or a binding
// chunk; one workgroup reduces one block (strided f32 sums, then a tree in workgroup memory) and
// writes its partial; the host adds a row's partials in f64, in block order.

struct Params {
  blocks: u32,     // blocks in this dispatch
  block_base: u32, // index of the dispatch's first block in `blocks_in` and `partial`
  a_base: u32,     // index of the chunk's first element in the `a` binding
  b_base: u32,     // ... and in the `b` binding
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> blocks_in: array<u32>;     // [start (chunk-local), count] per block
@group(0) @binding(4) var<storage, read_write> partial: array<f32>; // one sum per block

var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let s = wid.x + wid.y * nwg.x;
  let valid = s < P.blocks;
  var sum = 0.0;
  if (valid) {
    let g = P.block_base + s;
    let start = blocks_in[2u * g];
    let n = blocks_in[2u * g + 1u];
    for (var i = lid.x; i < n; i += 256u) {
      let d = a[P.a_base + start + i] - b[P.b_base + start + i];
      sum += d * d;
    }
  }
  sums[lid.x] = sum;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid.x < w) { sums[lid.x] += sums[lid.x + w]; }
    workgroupBarrier();
  }
  if (valid && lid.x == 0u) { partial[P.block_base + s] = sums[0]; }
}
