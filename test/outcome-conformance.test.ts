/**
 * The JS reference of outcomeAdvantages against EVERY call in verl's conformance vectors
 * (test/fixtures/conformance/verl/verl_adv_outcome.json, verl b178a3cd), error cases included.
 *
 * Tolerance: rel 1e-5, abs 1e-6 (f32 results of f32 reference code; rewardkit computes in f64 and
 * rounds once). Where verl's own f32 arithmetic dominates, the bound is derived per case:
 * - grpo_vectorized computes var = (S2 − S1²/n)/(n−1) in ONE f32 pass. Its error is at most
 *   δ = (n+3)·2^-24·(S2 + S1²/n)/(n−1) (sums of n terms plus the subtraction); the reference's std
 *   sqrt(max(var, ε)) is checked to lie in [sqrt(max(var−δ, ε)), sqrt(max(var+δ, ε))], i.e. verl's
 *   advantage must lie between the advantages those two stds give (plus rel 1e-5).
 * - grpo (loop version, std-normalised): verl's f32 row sums (torch's order) are off by up to
 *   T·2^-24·Σ_t|R|, its f32 mean by (n+1)·2^-24·max|s| and its two-pass std by about as much again,
 *   so |Δa| <= (1 + |a|)·((2n+3)·2^-24·max_g|s| + 2·T·2^-24·max_i Σ_t|R[i,t]|)/(std_g + ε). This is
 *   ~1e-6 on ordinary groups, and large exactly where verl's rounding decides the result: all-equal
 *   groups (÷ε turns an ulp of the mean into |s|·2^-23·1e6), 'huge' scores and 'tiny_diff' groups
 *   whose scores differ in their last bits. There the structural facts are checked as well: every
 *   advantage finite, |a| <= sqrt(n−1) (the largest Bessel z-score of n samples) + ε-slack.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { outcomeAdvantages, RewardkitError } from '../lib/index.js';
import { decode, fixture } from './helpers.js';

const verl = fixture('conformance/verl/verl_adv_outcome.json');
const F32 = 2 ** -24;

interface Case { id: string; tags: string[]; inputs: any; calls: any[] }

function inputsOf(c: Case) {
  const [B, T] = c.inputs.token_level_rewards.shape as [number, number];
  return {
    B, T,
    rewards: Float32Array.from(decode(c.inputs.token_level_rewards.data)),
    mask: Float32Array.from(decode(c.inputs.response_mask.data)),
    groups: Int32Array.from(c.inputs.index.group_id as number[]),
  };
}

function optionsOf(call: any): { estimator: string; normByStd?: boolean; epsilon: number; fNorm?: number } {
  const p = call.params;
  const norm = p.norm_adv_by_std_in_grpo ?? p['config.norm_adv_by_std_in_grpo'];
  return {
    estimator: call.registry_name, epsilon: p.epsilon,
    ...(norm !== undefined ? { normByStd: norm } : {}),
    ...(p.f_norm !== undefined ? { fNorm: p.f_norm } : {}),
  };
}

/** Row scores and group members as verl sees them (f32 row sums of every token). */
function groupsOf(B: number, T: number, rewards: Float32Array, groups: Int32Array) {
  const s = Array.from({ length: B }, (_, i) => { let x = 0; for (let t = 0; t < T; t++) x += rewards[i * T + t]!; return Math.fround(x); });
  const members = new Map<number, number[]>();
  groups.forEach((g, i) => { if (!members.has(g)) members.set(g, []); members.get(g)!.push(i); });
  return { s, members };
}

/** The interval verl's f32 one-pass grpo_vectorized advantage of row i may take. */
function vectorizedBound(s: number[], rows: number[], i: number, eps: number): [number, number] {
  const n = rows.length;
  if (n === 1) { const a = s[i]! / (1 + eps); return [a, a]; }
  let s1 = 0, s2 = 0;
  for (const k of rows) { s1 += s[k]!; s2 += s[k]! * s[k]!; }
  const mean = s1 / n, v = (s2 - (s1 * s1) / n) / (n - 1);
  const delta = ((n + 3) * F32 * (s2 + (s1 * s1) / n)) / (n - 1);
  const dMean = n * F32 * Math.abs(s1) / n + F32 * Math.abs(mean);
  const stds = [Math.sqrt(Math.max(v - delta, eps)), Math.sqrt(Math.max(v + delta, eps))];
  const num = [s[i]! - mean - dMean, s[i]! - mean + dMean];
  const cands = stds.flatMap((sd) => num.map((x) => x / (sd + eps)));
  return [Math.min(...cands), Math.max(...cands)];
}

for (const c of verl.cases as Case[]) {
  test(`verl ${c.id} [${c.tags.join(', ')}]: every call`, async () => {
    const { B, T, rewards, mask, groups } = inputsOf(c);
    const { s, members } = groupsOf(B, T, rewards, groups);
    // gpg's α, and the batch variance reinforce++-baseline whitens by (of s − mean_g over trained tokens).
    const alpha = B / Math.max(s.filter((x) => x !== 0).length, 1);
    let batchVar = 0;
    {
      const centred = s.map((x, i) => { const rows = members.get(groups[i]!)!; return rows.length === 1 ? x : x - rows.reduce((y, k) => y + s[k]!, 0) / rows.length; });
      let n = 0, sum = 0, sq = 0;
      for (let t = 0; t < B * T; t++) if (mask[t]) { n++; sum += centred[Math.floor(t / T)]!; }
      for (let t = 0; t < B * T; t++) if (mask[t]) sq += (centred[Math.floor(t / T)]! - sum / n) ** 2;
      batchVar = n > 1 ? sq / (n - 1) : 0;
    }
    let rowAbs = 0; // max_i Σ_t |R[i,t]|
    for (let i = 0; i < B; i++) { let x = 0; for (let t = 0; t < T; t++) x += Math.abs(rewards[i * T + t]!); rowAbs = Math.max(rowAbs, x); }
    for (const call of c.calls) {
      const opts = optionsOf(call);
      const label = `${call.registry_name} ${JSON.stringify(call.params)}`;
      const run = () => outcomeAdvantages({ ...opts, scores: rewards, mask, shape: [B, T], groups, scoreLevel: 'token', backend: 'js' });
      if (call.error) {
        try { await run(); assert.unreachable(`${label}: expected ${call.error.type}`); } catch (e) {
          assert.ok(e instanceof RewardkitError, `${label}: ${(e as Error).message}`);
          assert.is(e.code, 'E_VALUE', label);
        }
        continue;
      }
      const got = await run();
      assert.is(got.returns, got.tokenAdvantages);
      const expected = decode(call.outputs.advantages.data);
      const returns = decode(call.outputs.returns.data);
      for (let t = 0; t < expected.length; t++) assert.is(returns[t], expected[t], `${label}: verl returns = advantages`);
      for (let t = 0; t < expected.length; t++) {
        const i = Math.floor(t / T), a = got.tokenAdvantages[t]!, e = expected[t]!;
        if (mask[t] === 0) { assert.is(a, 0, `${label} [${t}] untrained`); continue; }
        const rows = members.get(groups[i]!)!;
        let lo = e, hi = e;
        if (opts.estimator === 'grpo_vectorized' && opts.normByStd) {
          [lo, hi] = vectorizedBound(s, rows, i, opts.epsilon);
        } else {
          // Score-unit rounding of verl (row sums, group mean, std), times how much the estimator amplifies it.
          const n = rows.length;
          const mean = rows.reduce((x, k) => x + s[k]!, 0) / n;
          const std = Math.sqrt(rows.reduce((x, k) => x + (s[k]! - mean) ** 2, 0) / (n - 1));
          const maxS = Math.max(...rows.map((k) => Math.abs(s[k]!)));
          const unit = (2 * n + 3) * F32 * maxS + 2 * T * F32 * rowAbs;
          const normalised = (opts.estimator === 'grpo' || opts.estimator === 'grpo_passk') && opts.normByStd !== false && n > 1;
          const gain = opts.estimator === 'reinforce_plus_plus_baseline' ? (1 + Math.abs(a)) / Math.sqrt(batchVar + 1e-8)
            : normalised ? (1 + Math.abs(a)) / (std + opts.epsilon) : 2 * (opts.estimator === 'gpg' ? alpha / (opts.fNorm ?? 1) : 1);
          const slack = unit * gain;
          if (normalised && opts.estimator === 'grpo') assert.ok(Number.isFinite(a) && Math.abs(a) <= Math.sqrt(n - 1) + 1e-5, `${label} [${t}] |a| = ${a} > sqrt(n-1)`);
          assert.ok(Math.abs(e - a) <= Math.max(slack, 1e-6 + 1e-5 * Math.abs(e)), `${label} [${t}] got ${a}, verl ${e}, bound ${slack}`);
          continue;
        }
        const tol = 1e-6 + 1e-5 * Math.max(Math.abs(lo), Math.abs(hi));
        const ok = opts.estimator === 'grpo_vectorized' && opts.normByStd
          ? e >= lo - tol && e <= hi + tol && a >= lo - tol && a <= hi + tol
          : Math.abs(a - e) <= 1e-6 + 1e-5 * Math.abs(e);
        assert.ok(ok, `${label} [${t}] got ${a}, verl ${e}${lo !== e ? ` (bound [${lo}, ${hi}])` : ''}`);
      }
    }
  });
}

test('the fixture covers every verl estimator rewardkit mirrors', () => {
  const names = new Set((verl.cases as Case[]).flatMap((c) => c.calls.map((k) => k.registry_name)));
  for (const n of ['grpo', 'grpo_vectorized', 'rloo', 'rloo_vectorized', 'reinforce_plus_plus_baseline', 'opo', 'gpg', 'grpo_passk']) assert.ok(names.has(n), n);
});

test.run();
