// One diffusion sampling step (lib/diffusion/step.ts): per element mean = ax·x + av·v,
// prev = mean + s·ε (ε given, or the counter-hash draw of lib/diffusion/rng.ts) or the given prev,
// x̂0 = bx·x + bv·v; and in the same pass each workgroup's Σ(prev − mean)² over its block of up to
// 1024 elements of ONE row (tree sum in workgroup memory), summed per row in f64 on the host.
// A dispatch covers `rowCount` rows from `row0`, elements [first, first + len) of each (a whole row
// unless a row exceeds one binding); `blocks` workgroups per row. Latents are bound as u32 words:
// f32 bits, or two f16/bf16 values a word (low half first), so a row may start mid-word.

struct Params {
  row0: u32,
  rowCount: u32,
  inner: u32,      // elements per row
  first: u32,      // first element (within a row) of this dispatch, a multiple of 1024
  len: u32,        // elements per row in this dispatch
  blocks: u32,     // workgroups per row = ceil(len / 1024)
  base32: u32,     // element offset of the dispatch's first element in the 4-byte bindings
  base16: u32,     // same in the latent bindings (== base32 for f32 latents)
  partBase: u32,   // index in `partials` of the dispatch's first workgroup
  flags: u32,      // bits 0-1: dtype (0 f32, 1 f16, 2 bf16); 2: prev given; 3: noise given; 4: x̂0 wanted
  key0: u32,
  key1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xs: array<u32>;
@group(0) @binding(2) var<storage, read> vs: array<u32>;
@group(0) @binding(3) var<storage, read> third: array<u32>;     // prev (latent dtype) or noise (f32) or unused
@group(0) @binding(4) var<storage, read> coefs: array<vec4<f32>>; // per row: (ax, av, bx, bv), (s, 0, 0, 0)
@group(0) @binding(5) var<storage, read_write> outPrev: array<f32>;
@group(0) @binding(6) var<storage, read_write> outMean: array<f32>;
@group(0) @binding(7) var<storage, read_write> outX0: array<f32>;
@group(0) @binding(8) var<storage, read_write> partials: array<f32>;

var<workgroup> acc: array<f32, 256>;

fn latent(buf: u32, i: u32) -> f32 {
  let dtype = params.flags & 3u;
  let k = params.base16 + i;
  var w: u32;
  if (dtype == 0u) {
    if (buf == 0u) { w = xs[k]; } else if (buf == 1u) { w = vs[k]; } else { w = third[k]; }
    return bitcast<f32>(w);
  }
  if (buf == 0u) { w = xs[k >> 1u]; } else if (buf == 1u) { w = vs[k >> 1u]; } else { w = third[k >> 1u]; }
  let h = (w >> ((k & 1u) * 16u)) & 0xffffu;
  if (dtype == 2u) { return bitcast<f32>(h << 16u); }
  return unpack2x16float(h).x;
}

fn mix32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn gaussianAt(e: u32) -> f32 {
  let h1 = mix32(mix32(e + params.key0) ^ params.key1);
  let h2 = mix32(mix32(e + params.key1) ^ params.key0);
  let u1 = f32((h1 >> 8u) + 1u) * 5.9604644775390625e-8;
  let u2 = f32(h2 >> 8u) * 5.9604644775390625e-8;
  return sqrt(-2.0 * log(u1)) * cos(3.14159265358979 * (2.0 * u2 - 1.0));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  let valid = w < params.rowCount * params.blocks;
  var sum = 0.0;
  if (valid) {
    let rloc = w / params.blocks;
    let blk = w % params.blocks;
    let row = params.row0 + rloc;
    let c = coefs[row * 2u];
    let s = coefs[row * 2u + 1u].x;
    let start = blk * 1024u;
    let end = min(params.len, start + 1024u);
    for (var j = start + lid; j < end; j += 256u) {
      let i = rloc * params.inner + j;   // element index relative to the dispatch's first element
      let x = latent(0u, i);
      let v = latent(1u, i);
      let mean = c.x * x + c.y * v;
      var prev: f32;
      if ((params.flags & 4u) != 0u) {
        prev = latent(2u, i);
      } else if ((params.flags & 8u) != 0u) {
        prev = mean + s * bitcast<f32>(third[params.base32 + i]);
      } else {
        prev = mean + s * gaussianAt(row * params.inner + params.first + j);
      }
      outMean[params.base32 + i] = mean;
      outPrev[params.base32 + i] = prev;
      if ((params.flags & 16u) != 0u) { outX0[params.base32 + i] = c.z * x + c.w * v; }
      let d = prev - mean;
      sum += d * d;
    }
  }
  acc[lid] = sum;
  workgroupBarrier();
  for (var h = 128u; h > 0u; h >>= 1u) {
    if (lid < h) { acc[lid] += acc[lid + h]; }
    workgroupBarrier();
  }
  if (valid && lid == 0u) { partials[params.partBase + w] = acc[0]; }
}
