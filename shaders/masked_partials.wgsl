// Whole-batch masked sums, pass 1 of 2: each workgroup reduces one block of 4096 tokens (256 threads
// × 16, coalesced) to a partial {Σ, count} over the trained tokens, with a tree in workgroup memory.
// Mode `square` sums ((v − mean)·2^−e)² with the mean and e from the finish pass (e > 0 only for
// huge values, so squares of 1e30 do not overflow f32); the sum pass also takes the largest |v|. Untrained tokens are skipped
// with a select, so NaN/Inf there never enters. One dispatch per chunk of tokens (binding limit).

struct Params {
  count: u32,     // tokens in this chunk
  data_base: u32, // index of the chunk's first token in the `data` binding
  mask_base: u32, // same in the `mask` binding (bytes)
  block0: u32,    // global index of the chunk's first block
  flags: u32,     // bit 0: mask present; bit 1: square mode
  _p0: u32, _p1: u32, _p2: u32,
}
struct Part { sum: f32, count: u32, maxabs: f32, _p: u32 }
struct Stat { sum: f32, count: u32, mean: f32, var_: f32, scale: f32, add: f32, e: i32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> stat: Stat;
@group(0) @binding(4) var<storage, read_write> parts: array<Part>;

const WG: u32 = 256u;
const PER: u32 = 16u;
var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_m: array<f32, WG>;

fn trained(local: u32) -> bool {
  if ((P.flags & 1u) == 0u) { return true; }
  let m = P.mask_base + local;
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let b = wid.x + wid.y * nwg.x;
  let first = b * WG * PER;
  let square = (P.flags & 2u) != 0u;
  let mean = stat.mean;
  let e = stat.e;
  var s = 0.0;
  var n = 0u;
  var mx = 0.0;
  if (first < P.count) {
    for (var j = 0u; j < PER; j++) {
      let local = first + j * WG + lid;
      if (local < P.count && trained(local)) {
        let v = data[P.data_base + local];
        let d = ldexp(v - mean, -e);
        s += select(v, d * d, square);
        mx = max(mx, abs(v));
        n++;
      }
    }
  }
  red_f[lid] = s;
  red_u[lid] = n;
  red_m[lid] = mx;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red_f[lid] += red_f[lid + w]; red_u[lid] += red_u[lid + w]; red_m[lid] = max(red_m[lid], red_m[lid + w]); }
  }
  if (lid == 0u && first < P.count) { parts[P.block0 + b] = Part(red_f[0], red_u[0], red_m[0], 0u); }
}
