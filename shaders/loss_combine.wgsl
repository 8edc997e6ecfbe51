// grpoStep: the policy gradient plus the KL term's gradient per token (a chunk per dispatch), and
// the scalars of both loss plans (rowbuf words 2..5, loss_reduce.wgsl) into one small result.

struct Params { count: u32, base_a: u32, base_b: u32, base_o: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;

@compute @workgroup_size(256)
fn add_tokens(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.count) { return; }
  o[P.base_o + i] = a[P.base_a + i] + b[P.base_b + i];
}

// a, b: the policy and KL rowbufs. o: total loss, policy loss, KL loss, clipfrac, ppo_kl, clipfrac_lower.
@compute @workgroup_size(1)
fn add_scalars() {
  _ = P.count; // every pass binds its uniforms at 0
  o[0] = a[2] + b[2];
  o[1] = a[2];
  o[2] = b[2];
  o[3] = a[3]; o[4] = a[4]; o[5] = a[5];
}
