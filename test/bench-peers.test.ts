/**
 * The bench peers (lib/bench/peers/): every installed peer times every key it supports at a tiny
 * size, and computes what rewardkit's JS reference computes on the same inputs. numpy and both
 * tfjs backends must be present in CI; torch may be absent (REWARDKIT_PYTHON can point at a Python
 * that has it).
 *
 * Tolerances (|peer − rewardkit| <= abs + rel·|rewardkit|): the peers compute in f32 with their own
 * summation orders, rewardkit's references in f64 rounded to f32. Elementwise keys (klK3, sdeStep's
 * sample, the GRPO/RLOO broadcasts) agree to a few f32 ulps: rel 1e-5, abs 1e-6. Keys with a
 * reduction over thousands of terms (masked whitening, GAE, the losses, log-softmax over a 1,000
 * vocabulary, GEMMs over H = 64, sdeStep's mean log-prob) allow rel 1e-4, abs 1e-5.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  aggregateEnsemble, bradleyTerry, diffusionStep, gae, klPenalty, maskedWhiten, outcomeAdvantages, policyLoss, scoreHeads, sd3Sigmas,
  tokenLogProbs, type MlpHead,
} from '../lib/index.js';
import { floats, hash01, logProbTriple, tokenBatch } from '../lib/bench/inputs.js';
import { peerOps } from '../lib/bench/peers/keys.js';
import { pythonPeers, type PythonPeer } from '../lib/bench/peers/python.js';
import { tfjsPeers, type TfjsPeer } from '../lib/bench/peers/tfjs.js';
import type { PeerCall } from '../lib/bench/types.js';
import { isCI, mismatch } from './helpers.js';

type Outputs = Record<string, ArrayLike<number>>;
interface Case { label: string; call: PeerCall; reference: () => Promise<Outputs> | Outputs; rel: number; abs: number }

const elementwise = { rel: 1e-5, abs: 1e-6 };
const reduced = { rel: 1e-4, abs: 1e-5 };

function groupCase(op: 'grpo' | 'rloo'): Case {
  // 40 rows of 32 tokens in groups of 16, 16, 7 and a group of one (verl: mean 0, std 1 / RLOO: s).
  const { rows, cols, mask } = tokenBatch(40 * 32, 32);
  const scores = floats(rows, 7, 0, 1);
  const groups = Int32Array.from({ length: rows }, (_, i) => (i < rows - 1 ? Math.floor(i / 16) : 3));
  return {
    label: op, ...elementwise,
    call: { op, inputs: { scores, groups, mask }, params: { rows, cols, epsilon: 1e-6 } },
    reference: async () => {
      const r = await outcomeAdvantages({ estimator: op === 'grpo' ? 'grpo_vectorized' : 'rloo', scores, scoreLevel: 'row', mask, shape: [rows, cols], groups, epsilon: 1e-6, backend: 'js' });
      return { advantages: r.tokenAdvantages };
    },
  };
}

function logitsCase(bf16: boolean): Case {
  const rows = 8, vocab = 1000;
  const f32 = floats(rows * vocab, 12, -8, 8);
  const labels = Int32Array.from({ length: rows }, (_, i) => Math.floor(hash01(i, 13) * vocab));
  const logits = bf16 ? Uint16Array.from(new Uint32Array(f32.buffer), (b) => b >>> 16) : f32;
  return {
    label: `logprobsEntropy ${bf16 ? 'bf16' : 'f32'}`, ...reduced,
    call: { op: 'logprobsEntropy', inputs: { logits, labels }, params: { rows, vocab, dtype: bf16 ? 'bf16' : 'f32' } },
    reference: async () => {
      const r = await tokenLogProbs({ logits, shape: [rows, vocab], labels, backend: 'js' });
      return { logProbs: r.logProbs!, entropy: r.entropy! };
    },
  };
}

function ensembleCase(reduce: 'mean' | 'min' | 'median' | 'uwo', K: number): Case {
  const B = 64, scores = floats(K * B, 20 + K, -2, 2);
  return {
    label: `ensemble ${reduce} K=${K}`, ...elementwise,
    call: { op: 'ensemble', inputs: { scores }, params: { K, B, reduce, coef: 0.5 } },
    reference: async () => ({ scores: (await aggregateEnsemble({ scores, shape: [K, B], method: reduce, c: 0.5, ddof: 0, backend: 'js' })).scores }),
  };
}

function cases(): Case[] {
  const batch = tokenBatch(64 * 64, 64);
  const { rows, cols, mask } = batch, n = rows * cols;
  const all = new Uint8Array(n).fill(1);
  const { logProbs, oldLogProbs, refLogProbs } = logProbTriple(n);
  const rewards = floats(n, 9, -1, 1), values = floats(n, 10, -1, 1), advantages = floats(n, 11, -2, 2);

  const B = 8, H = 64, width = 32, K = 3;
  const hidden = floats(B * H, 14), w1 = floats(K * width * H, 15, -0.3, 0.3), b1 = floats(K * width, 16, -0.1, 0.1), w2 = floats(K * width, 17, -0.5, 0.5);
  const heads: MlpHead[] = Array.from({ length: K }, (_, k) => ({
    kind: 'mlp', w1: w1.subarray(k * width * H, (k + 1) * width * H), b1: b1.subarray(k * width, (k + 1) * width), w2: w2.subarray(k * width, (k + 1) * width),
  }));

  const P = 256, chosen = floats(P, 18, -2, 2), rejected = floats(P, 19, -2, 2);

  const SB = 4, D = 256, sigmas = sd3Sigmas(10).sigmas, steps = Int32Array.from([1, 3, 5, 8]);
  const sample = floats(SB * D, 21), modelOutput = floats(SB * D, 22), noise = floats(SB * D, 23, -2, 2);
  const sigma = Float32Array.from(steps, (i) => sigmas[i]!), sigmaPrev = Float32Array.from(steps, (i) => sigmas[i + 1]!);

  return [
    groupCase('grpo'),
    groupCase('rloo'),
    {
      label: 'maskedWhiten', ...reduced,
      call: { op: 'maskedWhiten', inputs: { values, mask } },
      reference: async () => ({ whitened: (await maskedWhiten({ values, mask, shape: [rows, cols], backend: 'js' })).result }),
    },
    {
      label: 'gae', ...reduced,
      call: { op: 'gae', inputs: { rewards, values, mask }, params: { rows, cols, gamma: 0.99, lam: 0.95 } },
      reference: async () => {
        const r = await gae({ rewards, values, mask, shape: [rows, cols], gamma: 0.99, lambda: 0.95, backend: 'js' });
        return { advantages: r.advantages, returns: r.returns };
      },
    },
    {
      label: 'policyLoss', ...reduced,
      call: { op: 'policyLoss', inputs: { logProbs, oldLogProbs, advantages, mask }, params: { clipLow: 0.2, clipHigh: 0.28 } },
      reference: async () => {
        const r = await policyLoss({ logProbs, oldLogProbs, advantages, mask, shape: [rows, cols], clipLow: 0.2, clipHigh: 0.28, backend: 'js' });
        return { loss: [r.loss], clipfrac: [r.metrics.clipfrac], ppoKl: [r.metrics.ppoKl] };
      },
    },
    {
      label: 'klK3', ...elementwise,
      call: { op: 'klK3', inputs: { logProbs, refLogProbs } },
      reference: async () => ({ kl: (await klPenalty({ logProbs, refLogProbs, mask: all, shape: [rows, cols], estimator: 'k3', gradients: false, backend: 'js' })).kl }),
    },
    logitsCase(false),
    logitsCase(true),
    {
      label: 'mlpHeads', ...reduced,
      call: { op: 'mlpHeads', inputs: { hidden, w1, b1, w2 }, params: { B, H, width, K } },
      reference: async () => ({ scores: (await scoreHeads({ hidden, shape: [B, H], heads, backend: 'js' })).scores }),
    },
    ensembleCase('mean', 5),
    ensembleCase('min', 5),
    ensembleCase('median', 5),
    ensembleCase('median', 4),
    ensembleCase('uwo', 5),
    {
      label: 'bradleyTerry', ...reduced,
      call: { op: 'bradleyTerry', inputs: { chosen, rejected } },
      reference: async () => {
        const r = await bradleyTerry({ chosen, rejected, backend: 'js' });
        return { loss: [r.loss], accuracy: [r.accuracy] };
      },
    },
    {
      label: 'sdeStep', ...reduced,
      call: { op: 'sdeStep', inputs: { sample, modelOutput, noise, sigma, sigmaPrev }, params: { B: SB, D, noiseLevel: 0.7 } },
      reference: async () => {
        const r = await diffusionStep({ method: 'sde', schedule: { sigmas }, sample, modelOutput, noise, shape: [SB, D], stepIndex: steps, noiseLevel: 0.7, backend: 'js' });
        return { prevSample: r.prevSample, logProb: r.logProb };
      },
    },
  ];
}

const all = cases();
const keys = Object.keys(peerOps);
const required = new Set(['numpy', 'tfjs-wasm', 'tfjs-cpu']);
const peers: Array<PythonPeer | TfjsPeer> = [...pythonPeers(), ...tfjsPeers()];
const probes = await Promise.all(peers.map((p) => p.probe()));

test('every key has a correctness case', () => {
  for (const key of keys) assert.ok(all.some((c) => c.call.op === key), key);
});

peers.forEach((peer, i) => {
  const probe = probes[i]!;
  if (!probe.ok) {
    if (isCI && required.has(peer.name)) test(`${peer.name} is installed (CI)`, () => assert.unreachable(probe.reason));
    else test.skip(`${peer.name} (not installed: ${probe.reason})`, () => {});
    return;
  }

  test(`${peer.name} ${probe.version}: implements every key`, () => {
    for (const key of keys) assert.ok(peer.supports(key), key);
    assert.not.ok(peer.supports('noSuchKey'));
  });

  test(`${peer.name}: every key times positive finite samples`, async () => {
    for (const key of keys) {
      const c = all.find((k) => k.call.op === key)!;
      const samples = await peer.time(c.call, { minTimeMs: 1, minIterations: 3 });
      assert.ok(samples.length >= 3, `${key}: ${samples.length} samples`);
      assert.ok(samples.every((ms) => Number.isFinite(ms) && ms > 0), `${key}: ${samples.join(', ')}`);
    }
  });

  test(`${peer.name}: equals rewardkit's JS reference`, async () => {
    for (const c of all) {
      const [got, want] = await Promise.all([peer.run(c.call), c.reference()]);
      assert.equal(Object.keys(got).sort(), Object.keys(want).sort(), `${c.label}: outputs`);
      for (const [name, expected] of Object.entries(want)) {
        const m = mismatch(got[name]!, expected, c.rel, c.abs);
        assert.is(m, '', `${peer.name} ${c.label} ${name}: ${m}`);
      }
    }
  });

  test(`${peer.name}: a failing call rejects and the peer goes on`, async () => {
    const bad: PeerCall = { op: 'ensemble', inputs: { scores: new Float32Array(6) }, params: { K: 2, B: 3, reduce: 'mode' } };
    await peer.time(bad, { minTimeMs: 1, minIterations: 1 }).then(() => assert.unreachable('resolved'), (e: Error) => assert.match(e.message, /mode/));
    const samples = await peer.time(all[0]!.call, { minTimeMs: 1, minIterations: 1 });
    assert.ok(samples.length >= 1);
  });
});

test('a missing Python probes as not installed', async () => {
  const saved = process.env['REWARDKIT_PYTHON'];
  process.env['REWARDKIT_PYTHON'] = '/nonexistent';
  const missing = pythonPeers();
  if (saved === undefined) delete process.env['REWARDKIT_PYTHON'];
  else process.env['REWARDKIT_PYTHON'] = saved;
  for (const peer of missing) {
    const p = await peer.probe();
    assert.is(p.ok, false, peer.name);
    assert.match(p.reason ?? '', /\/nonexistent not found/);
  }
  await missing[0]!.time(all[0]!.call, { minTimeMs: 1, minIterations: 1 }).then(() => assert.unreachable('resolved'), (e: Error) => assert.match(e.message, /not found/));
  await Promise.all(missing.map((p) => p.close()));
});

test.after(async () => {
  await Promise.all(peers.map((p) => p.close()));
});

test.run();
