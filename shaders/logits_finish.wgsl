// Token log-probs / entropy, pass 2: one thread per row merges the row's segment triples (one per
// segment, usually one) and writes logp = (z[y] − m) − log s and H = log s − w/s. Non-finite
// results are written as bit patterns: WGSL does not promise inf/NaN arithmetic.

struct Params {
  rows: u32,      // rows in this dispatch
  segs: u32,      // segments per row
  partBase: u32,  // index in `partials` of the first row's first segment
  outBase: u32,   // index in the outputs of the first row
  flags: u32,     // bit 0: write logp, bit 1: write entropy
}

struct Partial { m: f32, s: f32, w: f32, zy: f32, flags: u32, pad0: u32, pad1: u32, pad2: u32 }

const SEEN = 1u;
const BAD = 2u;
const HAS_LABEL = 4u;
const MIN_EXP = -104.0;
const NAN_BITS = 0x7fc00000u;
const NEG_INF_BITS = 0xff800000u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<Partial>;
@group(0) @binding(2) var<storage, read_write> outLogp: array<u32>;
@group(0) @binding(3) var<storage, read_write> outEntropy: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.y * nwg.x * 64u + gid.x;
  if (r >= params.rows) { return; }
  var m = 0.0; var s = 0.0; var w = 0.0; var zy = 0.0; var f = 0u;
  for (var k = 0u; k < params.segs; k = k + 1u) {
    let p = partials[params.partBase + r * params.segs + k];
    if ((p.flags & HAS_LABEL) != 0u) { zy = p.zy; }
    let pf = p.flags;
    if ((pf & SEEN) != 0u) {
      if ((f & SEEN) == 0u) { m = p.m; s = p.s; w = p.w; }
      else {
        let mm = max(m, p.m);
        let da = max(m - mm, MIN_EXP);
        let db = max(p.m - mm, MIN_EXP);
        let ca = exp(da);
        let cb = exp(db);
        w = ca * (w + s * da) + cb * (p.w + p.s * db);
        s = s * ca + p.s * cb;
        m = mm;
      }
    }
    f = f | pf;
  }
  var logp = NAN_BITS;
  var entropy = NAN_BITS;
  if ((f & BAD) == 0u) {
    if ((f & SEEN) == 0u) { logp = NEG_INF_BITS; }  // every logit −inf: entropy stays NaN
    else {
      let logS = log(s);
      entropy = bitcast<u32>(logS - w / s);
      logp = select(bitcast<u32>((zy - m) - logS), NEG_INF_BITS, bitcast<u32>(zy) == NEG_INF_BITS);
    }
  }
  if ((params.flags & 1u) != 0u) { outLogp[params.outBase + r] = logp; }
  if ((params.flags & 2u) != 0u) { outEntropy[params.outBase + r] = entropy; }
}
