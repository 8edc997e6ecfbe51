/**
 * The JS reference against every call of verl's conformance vectors (verl commit b178a3cd):
 * compute_policy_loss_{vanilla,gspo,gpg,cispo,sapo,geo_mean}, agg_loss and compute_value_loss.
 *
 * Tolerances. Per-token losses and gradients: rel 1e-5, abs 1e-7 — the reference repeats torch's
 * f32 operations one by one (so clip-boundary ties land identically), and only exp/log may differ
 * by an ulp (torch uses SLEEF, V8 fdlibm). Aggregates and metrics: rel 1e-5, abs 1e-6 — torch sums
 * in f32 (pairwise, ~1e-7 relative), the reference in f64. The one documented difference: verl's
 * seq-mean-token-sum-norm multiplies by the mask, so NaN on padding makes it NaN; rewardkit never
 * reads padding and returns the finite sum (checked against verl's own seq-mean-token-sum).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aggLoss, policyLoss, valueLoss, type PolicyLoss, type PolicyLossOptions } from '../lib/index.js';
import { decode, fixture, mismatch } from './helpers.js';

const kinds: Record<string, PolicyLoss> = { vanilla: 'vanilla', gspo: 'gspo', gpg: 'gpg', cispo: 'cispo', sapo: 'sapo', geo_mean: 'gmpo' };
const f32 = (t: any) => Float32Array.from(decode(t.data));
const scalar = (t: any) => decode(t.data)[0]!;
function near(got: number, want: number, what: string, rel = 1e-5, abs = 1e-6) {
  const m = mismatch([got], [want], rel, abs);
  assert.is(m, '', `${what}: ${m}`);
}

const policy = fixture('conformance/verl/verl_policy_loss.json');
test(`policy losses: every call of verl_policy_loss.json (${policy.meta.n_calls} in the generator, ${policy.cases.reduce((n: number, c: any) => n + c.calls.length, 0)} here)`, async () => {
  let calls = 0;
  for (const c of policy.cases) {
    const [B, T] = c.inputs.log_prob.shape;
    const base = { logProbs: f32(c.inputs.log_prob), oldLogProbs: f32(c.inputs.old_log_prob), advantages: f32(c.inputs.advantages), mask: f32(c.inputs.response_mask), shape: [B, T] as [number, number] };
    for (const call of c.calls) {
      const name = call.function.split('compute_policy_loss_')[1];
      const q = call.params;
      const o: PolicyLossOptions = { ...base, loss: kinds[name]!, backend: 'js', aggregation: q.loss_agg_mode };
      if (q.clip_ratio !== undefined) { o.clipLow = q.clip_ratio_low ?? q.clip_ratio; o.clipHigh = q.clip_ratio_high ?? q.clip_ratio; }
      if (q.clip_ratio_c !== undefined) o.clipC = q.clip_ratio_c;
      if (q.tau_pos !== undefined) { o.tauPos = q.tau_pos; o.tauNeg = q.tau_neg; }
      if (q.rollout_is_weights) o.importanceWeights = f32(c.inputs.rollout_is_weights);
      const g = q.global_batch_info;
      if (g) Object.assign(o, { dpSize: g.dp_size, batchNumTokens: g.batch_num_tokens, globalBatchSize: g.global_batch_size, lossScaleFactor: g.loss_scale_factor });
      const what = `${c.id} ${name} ${q.config_name} ${q.loss_agg_mode}${g ? ' global' : ''}${q.rollout_is_weights ? ' IS' : ''}`;
      const r = await policyLoss(o);
      const out = call.outputs;
      near(r.loss, scalar(out.pg_loss), `${what} loss`);
      const m = out.metrics;
      if (m['actor/pg_clipfrac']) {
        near(r.metrics.clipfrac, scalar(m['actor/pg_clipfrac']), `${what} clipfrac`);
        near(r.metrics.ppoKl, scalar(m['actor/ppo_kl']), `${what} ppo_kl`);
        near(r.metrics.clipfracLower, scalar(m['actor/pg_clipfrac_lower']), `${what} clipfrac_lower`);
      }
      if (out.pg_losses_per_token) assert.is(mismatch(r.tokenLoss, decode(out.pg_losses_per_token.data), 1e-5, 1e-7), '', `${what} per-token`);
      assert.is(mismatch(r.gradient, decode(out.grad_log_prob.data), 1e-5, 1e-7), '', `${what} gradient`);
      if (out.agg_loss_call) assert.is(r.aggregation, out.agg_loss_call.loss_agg_mode, `${what} aggregation`);
      calls++;
    }
  }
  assert.ok(calls > 200);
});

const agg = fixture('conformance/verl/verl_agg_loss.json');
test('aggLoss and valueLoss: every call of verl_agg_loss.json', async () => {
  let calls = 0;
  for (const c of agg.cases) {
    const [B, T] = c.inputs.loss_mat.shape;
    const layout = { mask: f32(c.inputs.loss_mask), shape: [B, T] as [number, number] };
    const nanPad = decode(c.inputs.loss_mat.data).some((v, i) => Number.isNaN(v) && !decode(c.inputs.loss_mask.data)[i]);
    let seqSum = NaN; // verl's seq-mean-token-sum of this case (dp 1), to check the NaN-safe sum-norm against
    for (const call of c.calls) {
      const q = call.params, out = call.outputs;
      const what = `${c.id} ${call.function.split('.').pop()} ${JSON.stringify(q)}`;
      if (call.function.endsWith('agg_loss')) {
        const r = await aggLoss({ ...layout, lossMat: f32(c.inputs.loss_mat), aggregation: q.loss_agg_mode, dpSize: q.dp_size, batchNumTokens: q.batch_num_tokens, globalBatchSize: q.global_batch_size, lossScaleFactor: q.loss_scale_factor, backend: 'js' });
        const want = scalar(out.loss);
        if (q.loss_agg_mode === 'seq-mean-token-sum' && !q.dp_size) seqSum = want;
        if (nanPad && q.loss_agg_mode === 'seq-mean-token-sum-norm') {
          assert.ok(Number.isNaN(want), 'verl leaks NaN padding here');
          const rows = new Set(Array.from({ length: B }, (_, i) => i).filter((i) => decode(c.inputs.loss_mask.data).slice(i * T, i * T + T).some(Boolean))).size;
          near(r.loss, seqSum * rows / (q.loss_scale_factor ?? T), `${what} (NaN-safe)`);
        } else near(r.loss, want, what);
        assert.is(mismatch(r.gradient, decode(out.grad_loss_mat.data), 1e-5, 1e-9), '', `${what} gradient`);
      } else {
        const r = await valueLoss({ ...layout, vpreds: f32(c.inputs.vpreds), values: f32(c.inputs.values), returns: f32(c.inputs.returns), cliprange: q.cliprange_value, aggregation: q.loss_agg_mode, backend: 'js' });
        near(r.loss, scalar(out.vf_loss), `${what} loss`);
        near(r.clipfrac, scalar(out.vf_clipfrac), `${what} clipfrac`);
        const m = decode(c.inputs.loss_mask.data);
        const perToken = decode(out.per_token_clipped_sq_err.data).map((v, i) => (m[i] ? v : 0));
        assert.is(mismatch(r.tokenLoss, perToken, 1e-5, 1e-6), '', `${what} per-token`);
        assert.is(mismatch(r.gradient, decode(out.grad_vpreds.data), 1e-5, 1e-7), '', `${what} gradient`);
      }
      calls++;
    }
  }
  assert.is(calls, agg.cases.reduce((n: number, c: any) => n + c.calls.length, 0));
});

test.run();
