/**
 * Reward-model metrics: the JS reference against every case of the six scoring conformance files
 * (float64 vectors; each case's own `tolerance` applies since the reference computes in f64), direct
 * checks of the formulas the vectors do not cover, and typed errors. Backends: eval-backends.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  bestOfFour, bestOfNEstimate, bradleyTerry, epicDistance, epicSampled, kendallTau, pairwiseAccuracy, pearsonDistance,
  preferenceStrength, preferenceWinRate, rewardBench2Score, rewardBenchScore, rewardBenchSections, rewardMath, RewardkitError,
  selectBest, spearmanRho, tiesScore, winRate,
} from '../lib/index.js';
import { btRef } from '../lib/eval/preference.ref.js';
import { canonicalizeTabular, l1CanonicalDistance, pearson, pearsonToDistance } from '../lib/eval/epic.ref.js';
import { fixture, mismatch } from './helpers.js';

interface Case { id: string; inputs: any; outputs: any; tolerance: { abs: number; rel: number } }
const cases = (suite: string): Case[] => fixture(`conformance/scoring/${suite}.json`).cases;
const near = (a: number, e: number, t: { abs: number; rel: number }, what: string) =>
  assert.ok(Math.abs(a - e) <= t.abs + t.rel * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e)), `${what}: ${a} vs ${e}`);
const nearAll = (a: ArrayLike<number>, e: ArrayLike<number>, t: { abs: number; rel: number }, what: string) => {
  const m = mismatch(a, e, t.rel, t.abs);
  assert.is(m, '', `${what}: ${m}`);
};
const flat = (x: any): number[] => (Array.isArray(x) ? x.flat(Infinity) as number[] : [x]);

test('preference_metrics: every case (f64 reference)', async () => {
  const all = cases('preference_metrics');
  assert.ok(all.length > 0);
  for (const c of all) {
    const { chosen, rejected, margin } = c.inputs, o = c.outputs, t = c.tolerance, P = chosen.length;
    const run = (m: number[] | null, eps: number) => {
      const prob = new Float64Array(P), loss = new Float64Array(P);
      const s = btRef({ chosen, rejected, margin: m, labelSmoothing: eps, centerCoef: 0 }, prob, loss);
      return { prob, loss, s };
    };
    const plain = run(null, 0);
    nearAll(plain.prob, o.prob, t, `${c.id} prob`);
    nearAll(plain.loss, o.per_pair_nll, t, `${c.id} per_pair_nll`);
    near(plain.s.loss / P, o.trl_loss, t, 'trl_loss');
    near(plain.s.loss / P, o.openrlhf_pairwise, t, 'openrlhf_pairwise');
    near(plain.s.loss / P, o.openrlhf_logexp, t, 'openrlhf_logexp (stable = naive below 709)');
    near(run(margin, 0).s.loss / P, o.trl_loss_margin, t, 'trl_loss_margin');
    near(run(margin, 0).s.loss / P, o.openrlhf_pairwise_margin, t, 'openrlhf_pairwise_margin');
    near(run(null, 0.1).s.loss / P, o['label_smoothed_eps0.1'], t, 'label smoothing');
    // The public op (js backend) agrees on the scalars in f64.
    const js = await bradleyTerry({ chosen, rejected, centerCoef: 0.01, backend: 'js' });
    near(js.loss, o['trl_loss_center_0.01'], t, 'trl_loss_center_0.01');
    near(js.accuracy, o.accuracy_strict, t, 'accuracy_strict');
    near(js.accuracyTiesHalf, o.accuracy_ties_as_half, t, 'accuracy_ties_as_half');
  }
});

test('rewardbench_v1: every case', () => {
  for (const c of cases('rewardbench_v1')) {
    if (c.inputs.metrics) {
      const s = rewardBenchSections(c.inputs.metrics, { exampleCounts: c.inputs.example_counts, subsets: c.inputs.subset_mapping });
      for (const [k, v] of Object.entries(c.outputs.sections as Record<string, number>)) near(s[k]!, v, c.tolerance, `${c.id} ${k}`);
      // The built-in tables are reward-bench's.
      const d = rewardBenchSections(c.inputs.metrics);
      for (const [k, v] of Object.entries(c.outputs.sections as Record<string, number>)) near(d[k]!, v, c.tolerance, `${c.id} default ${k}`);
    } else {
      const r = pairwiseAccuracy(c.inputs.scores_chosen, c.inputs.scores_rejected);
      assert.equal(r.results, c.outputs.results, c.id);
      near(r.accuracy, c.outputs.accuracy, c.tolerance, c.id);
    }
  }
});

test('rewardbench_v2: every case', () => {
  for (const c of cases('rewardbench_v2')) {
    const r = bestOfFour(c.inputs.scores);
    nearAll(r.results, c.outputs.results, c.tolerance, c.id);
    near(r.accuracy, c.outputs.subset_accuracy, c.tolerance, c.id);
  }
});

test('rewardmath: every case', () => {
  for (const c of cases('rewardmath')) {
    const r = rewardMath(c.inputs.cases);
    (c.outputs.per_problem as any[]).forEach((e, i) => {
      const a = r.perProblem[i]!;
      assert.is(a.accuracy, e['reward Acc'] ? 1 : 0, `${c.id}[${i}] acc`);
      assert.is(a.accuracyWithTie, e['reward Acc (w/ tie)'] ? 1 : 0, `${c.id}[${i}] acc tie`);
      near(a.mrr, e['reward MRR'], c.tolerance, `${c.id}[${i}] mrr`);
      near(a.rank, e.rank, c.tolerance, `${c.id}[${i}] rank`);
    });
    const m = c.outputs.mean;
    near(r.mean.accuracy, m['reward Acc'], c.tolerance, 'mean acc');
    near(r.mean.accuracyWithTie, m['reward Acc (w/ tie)'], c.tolerance, 'mean acc tie');
    near(r.mean.mrr, m['reward MRR'], c.tolerance, 'mean mrr');
    near(r.mean.rank, m.rank, c.tolerance, 'mean rank');
  }
});

test('bon_winrate: every case', () => {
  for (const c of cases('bon_winrate')) {
    if (c.inputs.scores) assert.equal(selectBest(c.inputs.scores), c.outputs.selected_index, c.id);
    else {
      const r = winRate(c.inputs.policy_scores, c.inputs.baseline_scores);
      near(r.winRate, c.outputs.win_rate, c.tolerance, c.id);
      nearAll(r.perPrompt, c.outputs.per_prompt, c.tolerance, c.id);
    }
  }
});

test('epic: every case (tabular via the reference and the js op, sample-based)', async () => {
  for (const c of cases('epic')) {
    const t = c.tolerance, gamma = c.inputs.discount;
    const ra = flat(c.inputs.reward_a), rb = flat(c.inputs.reward_b);
    const S = c.inputs.reward_a.length, A = c.inputs.reward_a[0].length;
    if (c.id.startsWith('tabular')) {
      const ca = canonicalizeTabular(ra, S, A, gamma).canonical, cb = canonicalizeTabular(rb, S, A, gamma).canonical;
      nearAll(ca, flat(c.outputs.canonical_a), t, `${c.id} canonical_a`);
      nearAll(cb, flat(c.outputs.canonical_b), t, `${c.id} canonical_b`);
      const d = await epicDistance({ rewardA: ra, rewardB: rb, shape: [S, A], discount: gamma, backend: 'js' });
      near(d.distance, c.outputs.epic_pearson, t, `${c.id} epic`);
      near(l1CanonicalDistance(ca, cb), c.outputs.direct_l1_canonical, t, `${c.id} direct_l1`);
      near(pearsonDistance(ra, rb), c.outputs.pearson_raw_no_canon, t, `${c.id} raw pearson`);
    } else {
      const R = (r: number[]) => (s: number, a: number, n: number) => r[(s * A + a) * S + n]!;
      for (const which of ['mesh', 'random'] as const) {
        const m = c.inputs[which];
        const r = epicSampled({
          rewardA: R(ra), rewardB: R(rb), discount: gamma,
          batch: { states: m.batch_obs, actions: m.batch_act, nextStates: m.batch_next_obs },
          actionSamples: m.act_samples, nextStateSamples: m.next_obs_samples,
        });
        nearAll(r.canonicalA, c.outputs[`${which}_deshaped_a`], t, `${which} deshaped_a`);
        nearAll(r.canonicalB, c.outputs[`${which}_deshaped_b`], t, `${which} deshaped_b`);
        near(r.distance, c.outputs[`${which}_epic`], t, `${which} epic`);
      }
    }
  }
});

test('EPIC invariances: shaping and positive scaling give ~0, negation gives 1', async () => {
  const S = 5, A = 3, n = S * A * S, r = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) + 0.3 * Math.cos(i * 0.3));
  const phi = [0.3, -1.2, 2.0, 0.5, -0.7], g = 0.9;
  const shaped = r.map((v, i) => 3.5 * v + g * phi[i % S]! - phi[Math.floor(i / (A * S))]!);
  const d = await epicDistance({ rewardA: r, rewardB: shaped, shape: [S, A], discount: g, backend: 'js' });
  assert.ok(d.distance < 1e-7, `shaped: ${d.distance}`);
  const neg = await epicDistance({ rewardA: r, rewardB: r.map((v) => -v), shape: [S, A], discount: g, backend: 'js' });
  near(neg.distance, 1, { abs: 1e-12, rel: 0 }, 'negated');
  assert.ok(pearsonToDistance(pearson([1, 2, 3], [2, 4, 6])) < 1e-7); // ρ clipped to ≤ 1: never NaN
});

test('Bradley–Terry: huge margins do not overflow; NaN pairs; ties are wrong', async () => {
  const r = await bradleyTerry({ chosen: [1e4, -1e4, 0, NaN], rejected: [0, 0, 0, 0], margin: [0, 0, 800, 0], backend: 'js' });
  assert.is(r.losses[0], 0);
  assert.is(r.losses[1], 1e4);
  near(r.losses[2]!, 800, { abs: 0, rel: 1e-7 }, 'margin 800');
  assert.ok(Number.isNaN(r.losses[3]!) && Number.isNaN(r.loss));
  assert.is(r.accuracy, 0.25);
  assert.is(r.accuracyTiesHalf, 0.375);
  const s = preferenceStrength({ chosen: [1, 2, 3, 0], rejected: [0, 0, 1, 1], shape: [2, 2] });
  assert.equal([...s.mean], [1.5, 0.5]); // d = [[1, 2], [2, −1]]
  assert.equal([...s.std], [0.5, 1.5]);
});

test('RewardBench leaderboard, Ties, v2 final', () => {
  const sec = { Chat: 0.9, 'Chat Hard': 0.5, Safety: 0.8, Reasoning: 0.7 };
  near(rewardBenchScore(sec), 0.725, { abs: 1e-15, rel: 0 }, 'no prior sets');
  near(rewardBenchScore({ ...sec, 'Prior Sets': NaN }), 0.725, { abs: 1e-15, rel: 0 }, 'NaN prior sets masked');
  near(rewardBenchScore({ ...sec, 'Prior Sets': 0.6 }), (5.8 + 0.6) / 9, { abs: 1e-15, rel: 0 }, 'prior sets weight 1');
  const ties = tiesScore([
    { id: 1, kind: 'ref', correct: [2], incorrect: [0, 1] },
    { id: 1, kind: 'tied', correct: [2, 2.5], incorrect: [1, 0] },
    { id: 2, kind: 'ref', correct: [0], incorrect: [1] },
    { id: 2, kind: 'tied', correct: [1, 1], incorrect: [0.5] },
  ]);
  // prompt 1: gaps ref 1, tied 1, spread 0.5 → both preferred, tanh(1/0.5 − 1); prompt 2: spread 0,
  // tied gap 0.5 > 0 preferred, min gap −1 not, tanh(−inf) = −1.
  near(ties.refAccuracy, 0.5, { abs: 0, rel: 0 }, 'ref acc');
  near(ties.tiedAccuracy, 1, { abs: 0, rel: 0 }, 'tied acc');
  near(ties.score, 0.3 + 0.15 + 0.2 + 0.1 + 0.01 * (Math.tanh(1) - 1) / 2, { abs: 1e-15, rel: 0 }, 'ties score');
  near(rewardBench2Score({ Factuality: 0.6, 'Precise IF': 0.3, Math: 0.6, Safety: 0.9, Focus: 0.8, Ties: 0.6 }), 3.8 / 6, { abs: 1e-15, rel: 0 }, 'v2');
});

test('best-of-N estimator, win rates, ranks', () => {
  // n = 1: the mean gold score; n = N: the gold score of the proxy's best.
  near(bestOfNEstimate({ proxy: [3, 1, 2], gold: [10, 20, 30], n: 1 }), 20, { abs: 1e-12, rel: 0 }, 'n=1');
  near(bestOfNEstimate({ proxy: [3, 1, 2], gold: [10, 20, 30], n: 3 }), 10, { abs: 1e-12, rel: 0 }, 'n=N');
  // n = 2 of 3 sorted gold [20, 30, 10]: C(1,1)/3·30 + C(2,1)/3·10 = 10 + 6.667.
  near(bestOfNEstimate({ proxy: [3, 1, 2], gold: [10, 20, 30], n: 2 }), 50 / 3, { abs: 1e-12, rel: 0 }, 'n=2');
  near(bestOfNEstimate({ proxy: Array.from({ length: 2000 }, (_, i) => i), n: 1000 }), 1000 * 2001 / 1001 - 1, { abs: 1e-6, rel: 1e-9 }, 'large N');
  assert.is(preferenceWinRate([1, 2, 1.5, 2]), 62.5);
  near(kendallTau([1, 2, 3, 4], [1, 3, 2, 4]), 2 / 3, { abs: 1e-15, rel: 0 }, 'tau');
  near(kendallTau([1, 1, 2, 3], [1, 2, 2, 3]), 4 / 5, { abs: 1e-15, rel: 0 }, 'tau-b ties');
  near(spearmanRho([1, 2, 3, 4], [1, 3, 2, 4]), 0.8, { abs: 1e-15, rel: 0 }, 'rho');
  near(spearmanRho([1, 1, 2, 3], [10, 20, 20, 40]), 5 / 6, { abs: 1e-15, rel: 0 }, 'rho ties');
});

test('kendallTau (O(n log n)) equals the O(n²) definition, ties included', () => {
  const brute = (x: number[], y: number[]) => {
    let c = 0, d = 0, tx = 0, ty = 0;
    for (let i = 0; i < x.length; i++) for (let j = i + 1; j < x.length; j++) {
      const sx = Math.sign(x[i]! - x[j]!), sy = Math.sign(y[i]! - y[j]!);
      if (sx === 0 && sy === 0) continue;
      if (sx === 0) tx++; else if (sy === 0) ty++; else if (sx === sy) c++; else d++;
    }
    return (c - d) / Math.sqrt((c + d + tx) * (c + d + ty));
  };
  const small = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 40 });
  fc.assert(fc.property(small, fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 40, maxLength: 40 }), (x, y0) => {
    const y = y0.slice(0, x.length);
    const a = kendallTau(x, y), e = brute(x, y);
    assert.ok((Number.isNaN(a) && Number.isNaN(e)) || Math.abs(a - e) < 1e-12, `${a} vs ${e}`);
  }), { numRuns: 300 });
});

test('typed errors name the argument', async () => {
  const code = async (f: () => unknown, c: string, arg: string) => {
    try { await f(); assert.unreachable('no error'); } catch (e) {
      assert.instance(e, RewardkitError);
      assert.is((e as RewardkitError).code, c);
      assert.is((e as RewardkitError).argument, arg);
    }
  };
  await code(() => bradleyTerry({ chosen: [], rejected: [] }), 'E_SHAPE', 'chosen');
  await code(() => bradleyTerry({ chosen: [1], rejected: [1, 2] }), 'E_SHAPE', 'rejected');
  await code(() => bradleyTerry({ chosen: [1], rejected: [1], labelSmoothing: 1 }), 'E_VALUE', 'labelSmoothing');
  await code(() => bradleyTerry({ chosen: 'x' as never, rejected: [1] }), 'E_DTYPE', 'chosen');
  await code(() => bradleyTerry({ chosen: [1], rejected: [1], out: { losses: new Float32Array(2) } }), 'E_SHAPE', 'out.losses');
  await code(() => bradleyTerry({ chosen: [1], rejected: [1], backend: 'gpu' as never }), 'E_VALUE', 'backend');
  await code(() => preferenceStrength({ chosen: [1], rejected: [1], shape: [1, 2] }), 'E_SHAPE', 'chosen');
  await code(() => tiesScore([{ id: 1, kind: 'x' as never, correct: [1], incorrect: [0] }]), 'E_VALUE', 'prompts[0].kind');
  await code(() => epicSampled({ rewardA: () => 0, rewardB: () => 0, batch: { states: [0], actions: [0], nextStates: [0] }, actionSamples: [0], nextStateSamples: [] }), 'E_SHAPE', 'nextStateSamples');
  await code(() => epicSampled({ rewardA: () => 'x' as never, rewardB: () => 0, batch: { states: [0], actions: [0], nextStates: [0] }, actionSamples: [0], nextStateSamples: [0] }), 'E_VALUE', 'rewardA');
  await code(() => epicDistance({ rewardA: [1], rewardB: [1], shape: [1, 2] }), 'E_SHAPE', 'rewardA');
  await code(() => epicDistance({ rewardA: [1], rewardB: [1], shape: [1, 1], stateDist: [0.5] }), 'E_VALUE', 'stateDist');
  await code(() => epicDistance({ rewardA: [1], rewardB: [1], shape: [1, 1], discount: 2 }), 'E_VALUE', 'discount');
  await code(() => bestOfFour([[1]]), 'E_SHAPE', 'scores[0]');
  await code(() => selectBest([[1, NaN]]), 'E_VALUE', 'scores[0][1]');
  await code(() => bestOfNEstimate({ proxy: [1, 2], n: 3 }), 'E_RANGE', 'n');
  await code(() => rewardMath([]), 'E_SHAPE', 'problems');
  await code(() => rewardBench2Score({ Math: 1 }), 'E_VALUE', "domains['Factuality']");
  await code(() => kendallTau([1], [1]), 'E_SHAPE', 'a');
  await code(() => preferenceWinRate([0.5]), 'E_RANGE', 'preferences[0]');
});

test('fuzz: the bookkeeping metrics give numbers or RewardkitErrors on any input', () => {
  const num = fc.oneof(fc.double(), fc.constant(NaN), fc.integer({ min: -3, max: 3 }));
  const junk = fc.oneof(fc.array(num, { maxLength: 5 }), fc.constant(null), fc.constant('x'), fc.array(fc.array(num, { maxLength: 4 }), { maxLength: 4 }));
  fc.assert(fc.property(junk, junk, fc.integer({ min: -1, max: 6 }), (a, b, n) => {
    const calls: Array<() => unknown> = [
      () => pairwiseAccuracy(a as never, b as never), () => bestOfFour(a as never), () => selectBest(a as never),
      () => bestOfNEstimate({ proxy: a as never, gold: b as never, n }), () => winRate(a as never, b as never),
      () => preferenceWinRate(a as never), () => kendallTau(a as never, b as never), () => spearmanRho(a as never, b as never),
      () => rewardMath([{ chosen: a as never, rejected: b as never }]),
      () => tiesScore([{ id: 0, kind: 'ref', correct: a as never, incorrect: b as never }, { id: 0, kind: 'tied', correct: b as never, incorrect: a as never }]),
      () => pearsonDistance(a as never, b as never),
    ];
    for (const f of calls) {
      try { const r = f(); assert.ok(r !== undefined); } catch (e) { if (!(e instanceof RewardkitError)) throw e; }
    }
  }), { numRuns: 400 });
});

test.run();
