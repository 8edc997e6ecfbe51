/**
 * Benchmark declarations of the reward-model metrics (issue 4 §6): Bradley–Terry and tabular EPIC on
 * every backend, and the host-only bookkeeping metrics.
 *
 * Byte conventions (the minimum an op must read and write): typed arrays at their element size;
 * plain `number[]` inputs and outputs (what the bookkeeping metrics take and return) at 8 bytes a
 * value. Scalar results are not counted.
 */
import {
  bestOfFour, bestOfNEstimate, bradleyTerry, epicDistance, epicSampled, kendallTau, pairwiseAccuracy, pearsonDistance, preferenceStrength,
  preferenceWinRate, rewardBench2Domains, rewardBench2Score, rewardBenchExampleCounts, rewardBenchScore, rewardBenchSections, rewardMath,
  selectBest, spearmanRho, tiesScore, winRate, type TiesPrompt,
} from '../../index.js';
import { allBackends, count, floats, hash01 } from '../inputs.js';
import type { OpBench, Preset } from '../types.js';

const ALL = allBackends;
const fmt = count;

const pairSizes: Record<Preset, readonly number[]> = {
  smoke: [1024],
  small: [1024, 65536, 1048576],
  laptop: [1024, 65536, 1048576, 8388608],
  datacenter: [1024, 65536, 1048576, 8388608, 33554432],
};
/** Host-only metrics over typed arrays: the pair sweep up to 8M. */
const jsPairSizes: Record<Preset, readonly number[]> = { ...pairSizes, datacenter: [1024, 65536, 1048576, 8388608] };
/** Host-only metrics over plain arrays: sweeps a user's evaluation set can reach. */
const listSizes: Record<Preset, readonly number[]> = {
  smoke: [1024],
  small: [1024, 16384, 65536],
  laptop: [1024, 16384, 262144, 1048576],
  datacenter: [1024, 16384, 262144, 1048576],
};
/** Fixed-size bookkeeping (a leaderboard's dictionaries): one size in every preset. */
const once = (n: number): Record<Preset, readonly number[]> => ({ smoke: [n], small: [n], laptop: [n], datacenter: [n] });

/** `n` numbers as a plain array, rounded to 1/64 so rankings have ties, as real scores do. */
const numbers = (n: number, salt: number, lo = -2, hi = 2) => Array.from({ length: n }, (_, i) => Math.round(64 * (lo + (hi - lo) * hash01(i, salt))) / 64);
/** Rows of `width` numbers. */
const rows = (n: number, width: number, salt: number) => Array.from({ length: n }, (_, i) => numbers(width, salt + i * width));

/** Chosen rewards a little above rejected ones; rejected hashes every third index, so Δ varies pair to pair. */
function chosenRejected(P: number) {
  const chosen = floats(P, 20, -1.5, 2.5), rejected = new Float32Array(P);
  for (let i = 0; i < P; i++) rejected[i] = -2 + 4 * hash01(3 * i, 21);
  return { chosen, rejected };
}

const bradleyTerryBench: OpBench = {
  id: 'bradleyTerry', op: 'bradleyTerry', family: 'eval', unit: 'pairs', backends: ALL, bound: 'memory', sizes: pairSizes,
  setup(P) {
    const { chosen, rejected } = chosenRejected(P), out = { probabilities: new Float32Array(P), losses: new Float32Array(P) };
    return {
      label: `${fmt(P)} pairs`,
      bytes: 16 * P, // chosen + rejected read, probabilities + losses written
      run: (backend) => bradleyTerry({ chosen, rejected, backend, out }),
      peer: { op: 'bradleyTerry', inputs: { chosen, rejected } },
    };
  },
};

const bradleyTerryMarginBench: OpBench = {
  id: 'bradleyTerry/margin', op: 'bradleyTerry', family: 'eval', unit: 'pairs', backends: ALL, bound: 'memory', sizes: pairSizes,
  setup(P) {
    const { chosen, rejected } = chosenRejected(P), margin = floats(P, 22, 0, 0.5);
    const out = { probabilities: new Float32Array(P), losses: new Float32Array(P) };
    return {
      label: `${fmt(P)} pairs, per-pair margin, label smoothing 0.1, centering 0.01`,
      bytes: 20 * P, // chosen + rejected + margin read, probabilities + losses written
      run: (backend) => bradleyTerry({ chosen, rejected, margin, labelSmoothing: 0.1, centerCoef: 0.01, backend, out }),
    };
  },
};

const A = 8; // actions of the EPIC tables [S, A, S]

const epicBench: OpBench = {
  id: 'epicDistance', op: 'epicDistance', family: 'eval', unit: 'table entries', backends: ALL, bound: 'memory',
  // S·8·S entries: S = 16, 64, 256, 512, 1,024, 2,048.
  sizes: { smoke: [2048], small: [32768, 524288, 2097152], laptop: [32768, 524288, 8388608, 33554432], datacenter: [32768, 524288, 8388608, 33554432] },
  setup(n) {
    const S = Math.round(Math.sqrt(n / A)), size = S * A * S;
    const rewardA = floats(size, 23, -1, 1), rewardB = new Float32Array(size);
    // B is A shaped by a potential plus noise: EPIC sees through the shaping.
    for (let s = 0, i = 0; s < S; s++) for (let a = 0; a < A; a++) for (let t = 0; t < S; t++, i++) rewardB[i] = rewardA[i]! + 0.99 * Math.sin(t) - Math.sin(s) + 0.2 * (hash01(i, 24) - 0.5);
    return {
      label: `${fmt(S)} × ${A} × ${fmt(S)} tables`,
      bytes: 8 * size, // both tables read once
      run: (backend) => epicDistance({ rewardA, rewardB, shape: [S, A], backend }),
    };
  },
};

const epicSampledBench: OpBench = {
  id: 'epicSampled', op: 'epicSampled', family: 'eval', unit: 'transitions', backends: ['js'], bound: 'cpu',
  sizes: { smoke: [1024], small: [1024, 16384, 131072], laptop: [1024, 16384, 131072, 524288], datacenter: [1024, 16384, 131072, 524288] },
  setup(n) {
    const S = Math.max(16, n >> 3), m = 32; // integer states, each seen ~8 times (means cached per state); 32 (action, next state) samples
    const states = Array.from({ length: n }, (_, i) => Math.floor(S * hash01(i, 25)));
    const actions = Array.from({ length: n }, (_, i) => Math.floor(4 * hash01(i, 26)));
    const nextStates = states.map((s, i) => (s + 1 + Math.floor(3 * hash01(i, 27))) % S);
    const actionSamples = Array.from({ length: m }, (_, j) => j % 4), nextStateSamples = Array.from({ length: m }, (_, j) => Math.floor(S * hash01(j, 28)));
    const rewardA = (s: number, a: number, t: number) => Math.sin(0.01 * s) + 0.5 * a - Math.cos(0.02 * t);
    const rewardB = (s: number, a: number, t: number) => 2 * rewardA(s, a, t) + 0.99 * Math.sin(0.03 * t) - Math.sin(0.03 * s);
    return {
      label: `${fmt(n)} transitions over ${fmt(S)} states, ${m} samples per mean`,
      bytes: 3 * 8 * n + 2 * 8 * n, // states, actions, next states read; both canonical rewards written
      run: () => epicSampled({ rewardA, rewardB, batch: { states, actions, nextStates }, actionSamples, nextStateSamples }),
    };
  },
};

const pearsonDistanceBench: OpBench = {
  id: 'pearsonDistance', op: 'pearsonDistance', family: 'eval', unit: 'values', backends: ['js'], bound: 'memory', sizes: jsPairSizes,
  setup(n) {
    const a = floats(n, 29), b = floats(n, 30);
    return { label: `${fmt(n)} values`, bytes: 8 * n, run: () => pearsonDistance(a, b) }; // both arrays read
  },
};

const preferenceStrengthBench: OpBench = {
  id: 'preferenceStrength', op: 'preferenceStrength', family: 'eval', unit: 'pairs', backends: ['js'], bound: 'memory', sizes: jsPairSizes,
  setup(P) {
    const Mm = 4, chosen = floats(Mm * P, 31, -1.5, 2.5), rejected = floats(Mm * P, 32, -2, 2);
    return {
      label: `${Mm} models × ${fmt(P)} pairs`,
      bytes: 2 * 4 * Mm * P + 2 * 8 * P, // [M, P] chosen + rejected read; f64 mean + std written
      run: () => preferenceStrength({ chosen, rejected, shape: [Mm, P] }),
    };
  },
};

const pairwiseAccuracyBench: OpBench = {
  id: 'pairwiseAccuracy', op: 'pairwiseAccuracy', family: 'eval', unit: 'pairs', backends: ['js'], bound: 'cpu', sizes: listSizes,
  setup(P) {
    const { chosen, rejected } = chosenRejected(P);
    return { label: `${fmt(P)} pairs`, bytes: 8 * P + 8 * P, run: () => pairwiseAccuracy(chosen, rejected) }; // f32 pairs read, results written
  },
};

const winRateBench: OpBench = {
  id: 'winRate', op: 'winRate', family: 'eval', unit: 'prompts', backends: ['js'], bound: 'cpu', sizes: listSizes,
  setup(n) {
    const policy = numbers(n, 33), baseline = numbers(n, 34);
    return { label: `${fmt(n)} prompts`, bytes: 3 * 8 * n, run: () => winRate(policy, baseline) }; // both read, per-prompt written
  },
};

const preferenceWinRateBench: OpBench = {
  id: 'preferenceWinRate', op: 'preferenceWinRate', family: 'eval', unit: 'prompts', backends: ['js'], bound: 'cpu', sizes: listSizes,
  setup(n) {
    const preferences = numbers(n, 35, 1, 2);
    return { label: `${fmt(n)} preferences`, bytes: 8 * n, run: () => preferenceWinRate(preferences) };
  },
};

const kendallBench: OpBench = {
  id: 'kendallTau', op: 'kendallTau', family: 'eval', unit: 'items', backends: ['js'], bound: 'cpu', sizes: listSizes,
  setup(n) {
    const a = numbers(n, 36), b = a.map((x, i) => x + Math.round(64 * (hash01(i, 37) - 0.5)) / 64);
    return { label: `${fmt(n)} items, two correlated rankings with ties`, bytes: 2 * 8 * n, run: () => kendallTau(a, b) };
  },
};

const spearmanBench: OpBench = {
  id: 'spearmanRho', op: 'spearmanRho', family: 'eval', unit: 'items', backends: ['js'], bound: 'cpu', sizes: listSizes,
  setup(n) {
    const a = numbers(n, 38), b = a.map((x, i) => x + Math.round(64 * (hash01(i, 39) - 0.5)) / 64);
    return { label: `${fmt(n)} items, two correlated rankings with ties`, bytes: 2 * 8 * n, run: () => spearmanRho(a, b) };
  },
};

const N = 16; // candidates per prompt for best-of-N

const selectBestBench: OpBench = {
  id: 'selectBest', op: 'selectBest', family: 'eval', unit: 'prompts', backends: ['js'], bound: 'cpu',
  sizes: { smoke: [256], small: [256, 4096, 32768], laptop: [256, 4096, 65536], datacenter: [256, 4096, 65536] },
  setup(n) {
    const scores = rows(n, N, 40);
    return { label: `${fmt(n)} prompts × ${N} candidates`, bytes: 8 * N * n + 8 * n, run: () => selectBest(scores) }; // rows read, indices written
  },
};

const bestOfNEstimateBench: OpBench = {
  id: 'bestOfNEstimate', op: 'bestOfNEstimate', family: 'eval', unit: 'samples', backends: ['js'], bound: 'cpu', sizes: listSizes,
  setup(n) {
    const proxy = numbers(n, 41), gold = proxy.map((x, i) => x + (hash01(i, 42) - 0.5));
    return { label: `${fmt(n)} samples, n = ${N}`, bytes: 2 * 8 * n, run: () => bestOfNEstimate({ proxy, gold, n: N }) };
  },
};

const bestOfFourBench: OpBench = {
  id: 'bestOfFour', op: 'bestOfFour', family: 'eval', unit: 'prompts', backends: ['js'], bound: 'cpu',
  sizes: { smoke: [256], small: [256, 4096, 32768], laptop: [256, 4096, 65536], datacenter: [256, 4096, 65536] },
  setup(n) {
    const scores = rows(n, 4, 43);
    return { label: `${fmt(n)} prompts × 4 (chosen first)`, bytes: 8 * 4 * n + 8 * n, run: () => bestOfFour(scores) };
  },
};

const tiesBench: OpBench = {
  id: 'tiesScore', op: 'tiesScore', family: 'eval', unit: 'prompts', backends: ['js'], bound: 'cpu',
  sizes: { smoke: [256], small: [256, 4096, 32768], laptop: [256, 4096, 65536], datacenter: [256, 4096, 65536] },
  setup(n) {
    // Each id once as 'ref' (1 correct) and once as 'tied' (3 correct), 3 incorrect each.
    const prompts: TiesPrompt[] = Array.from({ length: n }, (_, i) => {
      const tied = i % 2 === 1;
      return { id: i >> 1, kind: tied ? 'tied' : 'ref', correct: numbers(tied ? 3 : 1, 44 + 8 * i, 0, 2), incorrect: numbers(3, 48 + 8 * i, -2, 1) };
    });
    const values = prompts.reduce((s, p) => s + p.correct.length + p.incorrect.length, 0);
    return { label: `${fmt(n)} prompts (ref and tied pairs)`, bytes: 8 * values, run: () => tiesScore(prompts) };
  },
};

const rewardMathBench: OpBench = {
  id: 'rewardMath', op: 'rewardMath', family: 'eval', unit: 'problems', backends: ['js'], bound: 'cpu',
  sizes: { smoke: [256], small: [256, 4096, 32768], laptop: [256, 4096, 65536], datacenter: [256, 4096, 65536] },
  setup(n) {
    // RewardMATH: one correct solution against nine rejected ones per problem.
    const problems = Array.from({ length: n }, (_, i) => ({ chosen: numbers(1, 45 + 10 * i, -1, 2), rejected: numbers(9, 46 + 10 * i) }));
    return { label: `${fmt(n)} problems, 1 chosen vs 9 rejected`, bytes: 8 * 10 * n + 8 * 4 * n, run: () => rewardMath(problems) }; // scores read, 4 metrics per problem written
  },
};

const subsets = Object.keys(rewardBenchExampleCounts);

const rewardBenchSectionsBench: OpBench = {
  id: 'rewardBenchSections', op: 'rewardBenchSections', family: 'eval', unit: 'subsets', backends: ['js'], bound: 'cpu', sizes: once(subsets.length),
  setup() {
    const metrics = Object.fromEntries(subsets.map((s, i) => [s, 0.5 + 0.5 * hash01(i, 47)]));
    return { label: `${subsets.length} RewardBench subsets → 4 sections`, bytes: 8 * subsets.length + 8 * 4, run: () => rewardBenchSections(metrics) };
  },
};

const rewardBenchScoreBench: OpBench = {
  id: 'rewardBenchScore', op: 'rewardBenchScore', family: 'eval', unit: 'sections', backends: ['js'], bound: 'cpu', sizes: once(5),
  setup() {
    const sections = { Chat: 0.95, 'Chat Hard': 0.7, Safety: 0.85, Reasoning: 0.9, 'Prior Sets': 0.7 };
    return { label: '5 sections → leaderboard score', bytes: 8 * 5, run: () => rewardBenchScore(sections) };
  },
};

const rewardBench2ScoreBench: OpBench = {
  id: 'rewardBench2Score', op: 'rewardBench2Score', family: 'eval', unit: 'domains', backends: ['js'], bound: 'cpu', sizes: once(rewardBench2Domains.length),
  setup() {
    const domains = Object.fromEntries(rewardBench2Domains.map((d, i) => [d, 0.4 + 0.5 * hash01(i, 48)]));
    return { label: `${rewardBench2Domains.length} domains → final score`, bytes: 8 * rewardBench2Domains.length, run: () => rewardBench2Score(domains) };
  },
};

export const evalOps: OpBench[] = [
  bradleyTerryBench, bradleyTerryMarginBench, epicBench, epicSampledBench, pearsonDistanceBench, preferenceStrengthBench,
  pairwiseAccuracyBench, winRateBench, preferenceWinRateBench, kendallBench, spearmanBench, selectBestBench, bestOfNEstimateBench,
  bestOfFourBench, tiesBench, rewardMathBench, rewardBenchSectionsBench, rewardBenchScoreBench, rewardBench2ScoreBench,
];
