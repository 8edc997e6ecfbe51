// Token estimators, the backward scan: one thread per row walks its tokens from last to first
// (SPEC.md §1.2, lib/advantage/token.ref.ts), in f32. Writes returns and the advantages before any
// whitening (REINFORCE++ writes its returns to both: they are whitened in place afterwards).
// Untrained tokens are handled with selects, never `x·m`. One dispatch per chunk of whole rows.

struct Params {
  row0: u32,      // first row of this chunk
  rows: u32,      // rows in this chunk
  token0: u32,    // global index of the chunk's first token
  base: u32,      // index of the chunk's first token in the f32 token bindings
  mask_base: u32, // same in the `mask` binding (bytes)
  flags: u32,     // bit 0: mask present; bits 8..: estimator (0 reinforce++, 1 GAE verl, 2 GAE OpenRLHF, 3 ReMax)
  gamma: f32,
  gl: f32,        // γ·λ
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> rewards: array<f32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;    // GAE (else a dummy)
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read> offsets: array<u32>;
@group(0) @binding(5) var<storage, read> baselines: array<f32>; // ReMax (else a dummy)
@group(0) @binding(6) var<storage, read_write> adv: array<f32>;
@group(0) @binding(7) var<storage, read_write> ret: array<f32>;

fn trained(local: u32) -> bool {
  if ((P.flags & 1u) == 0u) { return true; }
  let m = P.mask_base + local;
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * 64u;
  if (k >= P.rows) { return; }
  let row = P.row0 + k;
  let a = offsets[row] - P.token0;
  let b = offsets[row + 1u] - P.token0;
  let estimator = P.flags >> 8u;
  var run = 0.0;   // REINFORCE++/ReMax running return; GAE running advantage
  var nextv = 0.0;
  var baseline = 0.0;
  if (estimator == 3u) { baseline = baselines[row]; }
  for (var t = b; t > a; t--) {
    let local = t - 1u;
    let i = P.base + local;
    let on = trained(local);
    let r = rewards[i];
    switch estimator {
      case 0u: {
        run = r + P.gamma * run;
        ret[i] = run;
        adv[i] = run;
        run = select(0.0, run, on); // reset after storing
      }
      case 1u: {
        let v = values[i];
        let next = (r + P.gamma * nextv - v) + P.gl * run;
        nextv = select(nextv, v, on);
        run = select(run, next, on);
        adv[i] = run;
        ret[i] = run + v;
      }
      case 2u: {
        let v = select(0.0, values[i], on);
        run = (select(0.0, r, on) + P.gamma * nextv - v) + P.gl * run;
        adv[i] = run;
        ret[i] = run + v;
        nextv = v;
      }
      default: {
        run += select(0.0, r, on);
        ret[i] = run;
        adv[i] = select(run, run - baseline, on);
      }
    }
  }
}
