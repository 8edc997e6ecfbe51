// Per-row sums of the masked KL and trained-token counts, for verl's current_kl. One workgroup per
// segment (a row's tokens inside one chunk; rows that cross a chunk boundary have one segment per
// chunk, added on the host in f64): a strided f32 sum per thread, then a tree in workgroup memory.

struct Params {
  segments: u32,  // segments in this dispatch
  seg_base: u32,  // index of the dispatch's first segment in the `segs` and `out` bindings
  flags: u32,     // 1: mask present
  mask_base: u32, // index of the chunk's first token in the `mask` binding
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> kl: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> segs: array<u32>;      // [start, count] per segment, chunk-local
@group(0) @binding(4) var<storage, read_write> out: array<u32>; // [f32 bits of the sum, count] per segment

var<workgroup> sums: array<f32, 64>;
var<workgroup> counts: array<u32, 64>;

fn trained(t: u32) -> bool {
  if ((P.flags & 1u) == 0u) { return true; }
  let m = P.mask_base + t;
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let s = wid.x + wid.y * nwg.x;
  let valid = s < P.segments;
  var sum = 0.0;
  var count = 0u;
  if (valid) {
    let start = segs[2u * (P.seg_base + s)];
    let n = segs[2u * (P.seg_base + s) + 1u];
    for (var i = lid.x; i < n; i += 64u) {
      let t = start + i;
      if (trained(t)) { sum += kl[t]; count++; } // masked kl is 0 already; the select keeps the count
    }
  }
  sums[lid.x] = sum;
  counts[lid.x] = count;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w >>= 1u) {
    if (lid.x < w) {
      sums[lid.x] += sums[lid.x + w];
      counts[lid.x] += counts[lid.x + w];
    }
    workgroupBarrier();
  }
  if (valid && lid.x == 0u) {
    let g = P.seg_base + s;
    out[2u * g] = bitcast<u32>(sums[0]);
    out[2u * g + 1u] = counts[0];
  }
}
