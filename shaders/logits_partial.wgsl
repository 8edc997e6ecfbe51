// Token log-probs / entropy, pass 1: one workgroup per row segment (a whole row unless a row is
// larger than one binding). 256 threads stride the segment, each keeping its own online softmax
// triple (max m, s = Σ e^(z−m), w = Σ e^(z−m)·(z−m)); a tree merge in workgroup memory combines
// them and thread 0 writes the segment's triple, plus the label's logit when it lies in the segment.
// Logits are bound as u32 words: f32 bits, or two bf16 values per word (low half first); a row
// starts at element r·V, which for bf16 may be mid-word. Values are classified on their bits
// (−inf skipped, NaN/+inf flagged) because WGSL lets compilers assume floats are finite.

struct Params {
  units: u32,       // segments in this dispatch
  vocab: u32,       // V
  segLen: u32,      // elements per segment (V when rows fit a binding)
  segs: u32,        // segments per row
  seg0: u32,        // segment index of the dispatch's first unit within its row
  base: u32,        // element index in `logits` of that unit's first element
  labelBase: u32,   // index in `labels` of the first unit's row
  partBase: u32,    // index in `partials` of the first unit
  flags: u32,       // bit 0: bf16, bit 1: divide by temperature, bit 2: labels given
  temperature: f32,
}

struct Partial { m: f32, s: f32, w: f32, zy: f32, flags: u32, pad0: u32, pad1: u32, pad2: u32 }

const SEEN = 1u;     // at least one logit > −inf
const BAD = 2u;      // a NaN or +inf logit
const HAS_LABEL = 4u;
const MIN_EXP = -104.0; // e^-104 is 0 in f32: clamping keeps 0·(−inf) out of w

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<u32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> partials: array<Partial>;

var<workgroup> wm: array<f32, 256>;
var<workgroup> ws: array<f32, 256>;
var<workgroup> ww: array<f32, 256>;
var<workgroup> wf: array<u32, 256>;

var<private> m: f32;
var<private> s: f32;
var<private> w: f32;
var<private> f: u32;

fn value(bits: u32) -> f32 {
  var z = bitcast<f32>(bits);
  if ((params.flags & 2u) != 0u) { z = z / params.temperature; }
  return z;
}

fn element(e: u32) -> u32 {
  if ((params.flags & 1u) == 0u) { return logits[e]; }
  return ((logits[e >> 1u] >> ((e & 1u) * 16u)) & 0xffffu) << 16u;
}

fn add(bits: u32) {
  let z = value(bits);
  let zb = bitcast<u32>(z);
  if (zb == 0xff800000u) { return; }                     // −inf: probability 0, p·z → 0
  if ((zb & 0x7fffffffu) >= 0x7f800000u) { f = f | BAD; return; }
  if ((f & SEEN) == 0u) { m = z; s = 1.0; w = 0.0; f = f | SEEN; return; }
  if (z > m) {
    let d = max(m - z, MIN_EXP);
    let c = exp(d);
    w = c * (w + s * d);
    s = s * c + 1.0;
    m = z;
  } else {
    let d = max(z - m, MIN_EXP);
    let e = exp(d);
    s = s + e;
    w = w + e * d;
  }
}

// Merge slot j into slot i.
fn merge(i: u32, j: u32) {
  let fj = wf[j];
  let fi = wf[i];
  wf[i] = fi | fj;
  if ((fj & SEEN) == 0u) { return; }
  if ((fi & SEEN) == 0u) { wm[i] = wm[j]; ws[i] = ws[j]; ww[i] = ww[j]; return; }
  let mm = max(wm[i], wm[j]);
  let di = max(wm[i] - mm, MIN_EXP);
  let dj = max(wm[j] - mm, MIN_EXP);
  let ci = exp(di);
  let cj = exp(dj);
  ww[i] = ci * (ww[i] + ws[i] * di) + cj * (ww[j] + ws[j] * dj);
  ws[i] = ws[i] * ci + ws[j] * cj;
  wm[i] = mm;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let k = wg.y * nwg.x + wg.x;
  if (k >= params.units) { return; } // uniform per workgroup: the whole group leaves together
  let rowLocal = (params.seg0 + k) / params.segs;
  let seg = (params.seg0 + k) % params.segs;
  // Modular u32 arithmetic: seg − seg0 may be negative while the element index is not.
  let start = params.base + rowLocal * params.vocab + seg * params.segLen - params.seg0 * params.segLen;
  let count = min(params.segLen, params.vocab - seg * params.segLen);
  let end = start + count;

  m = 0.0; s = 0.0; w = 0.0; f = 0u;
  if ((params.flags & 1u) == 0u) {
    for (var e = start + tid; e < end; e = e + 256u) { add(logits[e]); }
  } else {
    // Whole words; the first and last may hold an element of the neighbouring row.
    let words = (end + 1u) >> 1u;
    for (var q = (start >> 1u) + tid; q < words; q = q + 256u) {
      let word = logits[q];
      if (2u * q >= start) { add((word & 0xffffu) << 16u); }
      if (2u * q + 1u < end) { add(word & 0xffff0000u); }
    }
  }
  wm[tid] = m; ws[tid] = s; ww[tid] = w; wf[tid] = f;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half >> 1u) {
    if (tid < half) { merge(tid, tid + half); }
    workgroupBarrier();
  }
  if (tid == 0u) {
    var p: Partial;
    p.m = wm[0]; p.s = ws[0]; p.w = ww[0]; p.zy = 0.0; p.flags = wf[0];
    if ((params.flags & 4u) != 0u) {
      let y = labels[params.labelBase + rowLocal];
      let segStart = seg * params.segLen;
      if (y >= segStart && y < segStart + count) {
        p.zy = value(element(start + (y - segStart)));
        p.flags = p.flags | HAS_LABEL;
      }
    }
    partials[params.partBase + k] = p;
  }
}
