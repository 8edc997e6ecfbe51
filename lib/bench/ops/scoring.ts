/**
 * Benchmark declarations of the scoring family (issue 4): reward heads, ensembles, shaping, process
 * rewards, potential shaping, the fused pipeline, and the host-only selection helpers.
 *
 * Byte conventions (the minimum an op must read and write): f32 4 bytes, bf16 2, u8 mask 1,
 * i32/u32 offsets and lengths 4; head weights are read once per call. FLOPs of a head are its GEMM,
 * 2·B·H·width·K (a linear head has width 1); the epilogue is left out, as in bench/heads.ts.
 */
import {
  aggregateEnsemble, aggregateSteps, bestOfN, clipDelta, dopamineProgress, loadHead, pooledIndex, potentialShaping, RunningStats, scoreHeads,
  scorePipeline, shapeRewards, weightedVote, type EnsembleOptions, type RewardHead, type ShapingFlags,
} from '../../index.js';
import { allBackends, count, floats, GROUP, hash01, tokenBatch } from '../inputs.js';
import type { OpBench, Preset } from '../types.js';

const ALL = allBackends;
const K = 4;
const fmt = count;

/** bf16 bits of f32 values: the top half of each (truncated, as bench/heads.ts makes them). */
function bf16Bits(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length), b = new Uint16Array(values.length);
  for (let i = 0; i < b.length; i++) b[i] = u[i]! >>> 16;
  return b;
}

/**
 * The MLP head shape of B rows: width = B/4 clamped to [16, 1,024], H = 4·width, so the GEMM stays
 * balanced (compute-bound) across the sweep and B = 4,096 is the target (H 4,096, width 1,024).
 */
const mlpShape = (B: number) => { const width = Math.min(1024, Math.max(16, B >> 2)); return { H: 4 * width, width }; };

/** K heads whose weights are views of one [K·width·H] / [K·width] array each: the layout the peer gets. */
function mlpHeads(H: number, width: number) {
  const s = 1 / Math.sqrt(H);
  const w1 = floats(K * width * H, 31, -s, s), b1 = floats(K * width, 32, -0.1, 0.1), w2 = floats(K * width, 33, -1 / Math.sqrt(width), 1 / Math.sqrt(width));
  const heads: RewardHead[] = Array.from({ length: K }, (_, k) => ({
    kind: 'mlp', activation: 'silu',
    w1: w1.subarray(k * width * H, (k + 1) * width * H), b1: b1.subarray(k * width, (k + 1) * width), w2: w2.subarray(k * width, (k + 1) * width),
  }));
  return { heads, w1, b1, w2 };
}

function headsBench(kind: 'mlp' | 'linear', dtype: 'f32' | 'bf16'): OpBench {
  const mlp = kind === 'mlp';
  return {
    id: `scoreHeads/${kind}${dtype === 'bf16' ? '-bf16' : ''}`,
    op: 'scoreHeads', family: 'scoring', unit: 'rows', backends: ALL,
    // A linear head (K GEMVs) reads each hidden value once for 2·K FLOPs: memory-bound.
    bound: mlp ? 'compute' : 'memory',
    sizes: mlp
      ? { smoke: [16], small: [64, 256, 512], laptop: [256, 1024, 2048], datacenter: [256, 1024, 4096] }
      : { smoke: [16], small: [256, 1024], laptop: [256, 4096, 16384], datacenter: [256, 4096, 32768] },
    setup(B) {
      const { H, width } = mlp ? mlpShape(B) : { H: 4096, width: 1 };
      const values = floats(B * H, 30);
      const hidden = dtype === 'f32' ? values : bf16Bits(values);
      const m = mlp ? mlpHeads(H, width) : null;
      const heads: RewardHead[] = m ? m.heads
        : Array.from({ length: K }, (_, k) => ({ kind: 'linear' as const, weight: floats(H, 34 + k, -1 / 64, 1 / 64), bias: 0.1 * k }));
      const out = new Float32Array(K * B);
      const weightFloats = K * (mlp ? width * H + 2 * width : H);
      return {
        label: mlp ? `${fmt(B)} × ${fmt(H)} ${dtype}, ${K} MLP heads of width ${fmt(width)}` : `${fmt(B)} × ${fmt(H)} ${dtype}, ${K} linear heads`,
        // hidden + weights (once) + scores.
        bytes: hidden.byteLength + 4 * weightFloats + 4 * K * B,
        flops: 2 * B * H * width * K,
        elements: B * K * width * H, // scoreHeads' `auto` counts multiply-adds
        run: (backend) => scoreHeads({ hidden, dtype, shape: [B, H], heads, backend, out }),
        ...(m && dtype === 'f32' ? { peer: { op: 'mlpHeads', inputs: { hidden: values, w1: m.w1, b1: m.b1, w2: m.w2 }, params: { B, H, width, K } } } : {}),
      };
    },
  };
}

/** Row sweeps of the per-response ops (responses or rows, not tokens). */
const rowSizes: Record<Preset, readonly number[]> = {
  smoke: [1024],
  small: [1024, 65536, 1048576],
  laptop: [1024, 65536, 1048576, 8388608],
  datacenter: [1024, 65536, 1048576, 8388608, 33554432],
};

/** Each variant: its options, and the peer's `reduce` where the peer ensemble key has it. */
const ensembleVariants: Array<{ name: string; options: Partial<EnsembleOptions>; peer?: Record<string, number | string> }> = [
  { name: 'mean', options: { method: 'mean' }, peer: { reduce: 'mean' } },
  { name: 'min', options: { method: 'min' }, peer: { reduce: 'min' } },
  { name: 'median', options: { method: 'median' }, peer: { reduce: 'median' } },
  { name: 'uwo', options: { method: 'uwo', c: 0.5, ddof: 0 }, peer: { reduce: 'uwo', coef: 0.5, ddof: 0 } }, // Coste et al.'s BoN setting
  { name: 'meanMinusStd', options: { method: 'meanMinusStd', lambda: 1 } },
  { name: 'zscore-mean', options: { method: 'mean', zNormalize: true } }, // RewardBench's per-model z-normalisation
];

const ensembleBenches: OpBench[] = ensembleVariants.map(({ name, options, peer }) => ({
  id: `aggregateEnsemble/${name}`, op: 'aggregateEnsemble', family: 'scoring', unit: 'rows', backends: ALL, bound: 'memory', sizes: rowSizes,
  setup(B) {
    const scores = floats(K * B, 40, -2, 2), out = new Float32Array(B);
    return {
      label: `${K} members × ${fmt(B)} rows`,
      bytes: (K + 1) * B * 4, // read [K, B], write [B]
      elements: K * B,
      run: (backend) => aggregateEnsemble({ ...options, scores, shape: [K, B], backend, out }),
      ...(peer ? { peer: { op: 'ensemble', inputs: { scores }, params: { K, B, ...peer } } } : {}),
    };
  },
}));

const M = 10; // PAR's reward_maxref references per response

const shapingVariants: Array<{ name: string; flags: ShapingFlags; refs: boolean; lengths: boolean; stats: boolean; what: string }> = [
  { name: 'par', flags: { par: true }, refs: true, lengths: true, stats: false, what: `relative sigmoid over ${M} references, length penalty` },
  { name: 'meanstd-clip', flags: { meanstd: true, clipping: true }, refs: false, lengths: false, stats: true, what: 'meanstd + clipping, running stats' },
  { name: 'lsc', flags: { lsc: true }, refs: true, lengths: false, stats: false, what: `log-sigmoid centred on ${M} references` },
];

/** Rows with 10 references each: the datacenter sweep stops at 8M rows (336 MB of references). */
const shapingSizes: Record<Preset, readonly number[]> = { ...rowSizes, datacenter: [1024, 65536, 1048576, 8388608] };

const shapingBenches: OpBench[] = shapingVariants.map((v) => ({
  id: `shapeRewards/${v.name}`, op: 'shapeRewards', family: 'scoring', unit: 'rows', backends: ALL, bound: 'memory', sizes: shapingSizes,
  setup(B) {
    const rewards = floats(B, 41, -2, 2), out = new Float32Array(B);
    const references = v.refs ? floats(B * M, 42, -1, 1) : undefined;
    const lengths = v.lengths ? Uint32Array.from({ length: B }, (_, i) => Math.floor(600 * hash01(i, 43))) : undefined;
    const stats = v.stats ? new RunningStats() : undefined; // carried across calls, as across training batches
    return {
      label: `${fmt(B)} rows, ${v.what}`,
      // rewards + references + lengths read, rewards written.
      bytes: 4 * (2 * B + (references?.length ?? 0) + (lengths?.length ?? 0)),
      elements: B + (references?.length ?? 0),
      run: (backend) => shapeRewards({
        rewards, options: v.flags, backend, out,
        ...(references ? { references, referenceCount: M } : {}), ...(lengths ? { lengths } : {}), ...(stats ? { stats } : {}),
      }),
    };
  },
}));

/** Step sweeps (total steps N over N/16 responses). */
const stepSizes: Record<Preset, readonly number[]> = {
  smoke: [4096],
  small: [4096, 262144, 4194304],
  laptop: [4096, 262144, 4194304, 16777216],
  datacenter: [65536, 1048576, 16777216, 134217728],
};
const STEPS = 16;

/** CSR offsets of ragged step lists: N/16 responses of 12..20 steps (mean 16), summing to N. */
function stepOffsets(N: number): Uint32Array {
  const B = Math.max(1, Math.floor(N / STEPS)), offsets = new Uint32Array(B + 1);
  for (let i = 1; i < B; i++) offsets[i] = i * STEPS + Math.floor(8 * hash01(i, 50)) - 4;
  offsets[B] = N;
  return offsets;
}

const stepsLabel = (N: number, offsets: Uint32Array) => `${fmt(N)} steps over ${fmt(offsets.length - 1)} responses`;

const aggregateBenches: OpBench[] = (['min', 'meanLogit'] as const).map((method) => ({
  id: `aggregateSteps/${method}`, op: 'aggregateSteps', family: 'scoring', unit: 'steps', backends: ALL, bound: 'memory', sizes: stepSizes,
  setup(N) {
    const stepScores = floats(N, 51, 0.05, 0.95), offsets = stepOffsets(N), out = new Float32Array(offsets.length - 1);
    return {
      label: stepsLabel(N, offsets),
      bytes: 4 * (N + offsets.length + out.length), // step scores + offsets read, one score per response written
      run: (backend) => aggregateSteps({ stepScores, stepOffsets: offsets, method, backend, out }),
    };
  },
}));

const clipDeltaBench: OpBench = {
  id: 'clipDelta', op: 'clipDelta', family: 'scoring', unit: 'steps', backends: ALL, bound: 'memory', sizes: stepSizes,
  setup(N) {
    const stepScores = floats(N, 52, 0.05, 0.95), offsets = stepOffsets(N), out = new Float32Array(N);
    return {
      label: `${stepsLabel(N, offsets)}, Clip + Delta`,
      bytes: 4 * (2 * N + offsets.length), // step scores + offsets read, refined rewards written
      run: (backend) => clipDelta({ stepScores, stepOffsets: offsets, backend, out }),
    };
  },
};

const potentialBench: OpBench = {
  id: 'potentialShaping', op: 'potentialShaping', family: 'scoring', unit: 'steps', backends: ALL, bound: 'memory', sizes: stepSizes,
  setup(N) {
    const offsets = stepOffsets(N), B = offsets.length - 1;
    const rewards = floats(N, 53, -1, 1), potentials = floats(N + B, 54, 0, 1), out = new Float32Array(N);
    return {
      label: `${stepsLabel(N, offsets)}, γ 0.99, final potentials`,
      bytes: 4 * (N + (N + B) + offsets.length + N), // rewards, Φ of N + B states, offsets read; rewards written
      run: (backend) => potentialShaping({ rewards, offsets, potentials, gamma: 0.99, backend, out }),
    };
  },
};

const dopamineBench: OpBench = {
  id: 'dopamineProgress', op: 'dopamineProgress', family: 'scoring', unit: 'steps', backends: ALL, bound: 'memory', sizes: stepSizes,
  setup(N) {
    const offsets = stepOffsets(N), hops = floats(N, 55, -0.3, 0.9), out = new Float32Array(N);
    return {
      label: `${stepsLabel(N, offsets)}, incremental`,
      bytes: 4 * (2 * N + offsets.length), // hops + offsets read, progress written
      run: (backend) => dopamineProgress({ hops, offsets, mode: 'incremental', backend, out }),
    };
  },
};

/** Pipeline rows: heads of mlpShape(B), then GRPO advantages over T = min(1,024, 16·B) tokens per row. */
const pipelineBench: OpBench = {
  id: 'scorePipeline', op: 'scorePipeline', family: 'scoring', unit: 'rows', backends: ALL, bound: 'compute',
  sizes: { smoke: [16], small: [64, 256], laptop: [256, 1024], datacenter: [1024, 4096] },
  setup(B) {
    const { H, width } = mlpShape(B), T = Math.min(1024, 16 * B);
    const hidden = floats(B * H, 60), { heads, w1, b1, w2 } = mlpHeads(H, width);
    const { mask } = tokenBatch(B * T, T);
    const lengths = Uint32Array.from({ length: B }, (_, i) => Math.floor(600 * hash01(i, 61)));
    const options = {
      hidden, shape: [B, H] as [number, number], heads,
      ensemble: { method: 'uwo' as const, c: 0.5 },
      shaping: { lengths, options: { tanh: true } },
      advantages: { groups: { size: GROUP }, mask, shape: [B, T] as [number, number] },
    };
    return {
      label: `${fmt(B)} × ${fmt(H)}, ${K} MLP heads of width ${fmt(width)} → uwo → tanh + length penalty → GRPO over ${fmt(B * T)} tokens`,
      // hidden + weights + lengths + mask read; rewards, row and token advantages written.
      bytes: 4 * (hidden.length + w1.length + b1.length + w2.length + B) + mask.length + 4 * (2 * B + B * T),
      flops: 2 * B * H * width * K,
      elements: B * K * width * H + B * T, // multiply-adds + GRPO tokens, as scorePipeline's `auto` counts
      run: (backend) => scorePipeline({ ...options, backend }),
    };
  },
};

const candidateSizes: Record<Preset, readonly number[]> = { smoke: [1024], small: [1024, 65536, 1048576], laptop: [1024, 65536, 1048576, 8388608], datacenter: [1024, 65536, 1048576, 8388608] };

const bestOfNBench: OpBench = {
  id: 'bestOfN', op: 'bestOfN', family: 'scoring', unit: 'candidates', backends: ['js'], bound: 'memory', sizes: candidateSizes,
  setup(N) {
    const scores = floats(N, 70, -2, 2);
    return {
      label: `${fmt(N)} candidates in groups of ${GROUP}`,
      bytes: 4 * N + 4 * Math.ceil(N / GROUP), // scores read, one index per group written
      run: () => bestOfN({ scores, groups: { size: GROUP } }),
    };
  },
};

const weightedVoteBench: OpBench = {
  id: 'weightedVote', op: 'weightedVote', family: 'scoring', unit: 'candidates', backends: ['js'], bound: 'cpu',
  sizes: { smoke: [1024], small: [1024, 65536, 262144], laptop: [1024, 65536, 1048576], datacenter: [1024, 65536, 1048576, 4194304] },
  setup(N) {
    const answers = Int32Array.from({ length: N }, (_, i) => Math.floor(6 * hash01(i, 71))), weights = floats(N, 72, 0, 1);
    return {
      label: `${fmt(N)} candidates in groups of ${GROUP}, 6 distinct answers`,
      bytes: 8 * N + 12 * Math.ceil(N / GROUP), // answers + weights read; an answer and an f64 weight per group written
      run: () => weightedVote({ answers, weights, groups: { size: GROUP } }),
    };
  },
};

/** An in-memory safetensors file of one MLP head in BF16 (nn.Sequential names 0. and 2.). */
function safetensorsHead(H: number, width: number): Uint8Array {
  const w1 = bf16Bits(floats(width * H, 80, -0.05, 0.05)), b1 = bf16Bits(floats(width, 81, -0.1, 0.1)), w2 = bf16Bits(floats(width, 82, -0.1, 0.1));
  const tensors: Array<[string, number[], Uint16Array]> = [['score.0.weight', [width, H], w1], ['score.0.bias', [width], b1], ['score.2.weight', [1, width], w2]];
  const header: Record<string, unknown> = { __metadata__: { activation: 'silu' } };
  let offset = 0;
  for (const [name, shape, data] of tensors) { header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + data.byteLength] }; offset += data.byteLength; }
  const text = new TextEncoder().encode(JSON.stringify(header));
  const file = new Uint8Array(8 + text.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(text.length), true);
  file.set(text, 8);
  let at = 8 + text.length;
  for (const [, , data] of tensors) { file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at); at += data.byteLength; }
  return file;
}

const loadHeadBench: OpBench = {
  id: 'loadHead', op: 'loadHead', family: 'scoring', unit: 'parameters', backends: ['js'], bound: 'memory',
  sizes: { smoke: [65536], small: [65536, 1048576, 4194304], laptop: [65536, 1048576, 4194304], datacenter: [65536, 1048576, 4194304, 16777216] },
  setup(P) {
    const H = P >= 4096 * 1024 ? 4096 : 1024, width = Math.max(1, Math.floor(P / H));
    const file = safetensorsHead(H, width);
    return {
      label: `BF16 MLP head ${fmt(width)} × ${fmt(H)} from a buffer`,
      bytes: file.length + 4 * (width * H + 2 * width), // file read, f32 weights written
      run: () => loadHead(file),
    };
  },
};

/** Running moments across batches (shaping's meanstd/clip/minmax state): one merge of a batch. */
const runningStatsBench: OpBench = {
  id: 'RunningStats', op: 'RunningStats', family: 'scoring', unit: 'rewards', backends: ['js'], bound: 'memory', sizes: rowSizes,
  setup(n) {
    const values = floats(n, 41, -2, 2), stats = new RunningStats();
    // Reads the batch twice (two-pass moments): the minimum is one read.
    return { label: `${fmt(n)} rewards per batch`, bytes: 4 * n, run: () => stats.updateFrom(values) };
  },
};

/** The token a head reads per row, from a [B, T] attention mask (OpenRLHF's pooling). */
const pooledIndexBench: OpBench = {
  id: 'pooledIndex', op: 'pooledIndex', family: 'scoring', unit: 'tokens', backends: ['js'], bound: 'memory',
  sizes: { smoke: [4096], small: [65536, 1048576, 8388608], laptop: [65536, 1048576, 8388608], datacenter: [65536, 1048576, 8388608, 33554432] },
  setup(n) {
    const b = tokenBatch(n);
    // Reads the u8 mask, writes one u32 index per row.
    return { label: `${fmt(b.rows)} × ${fmt(b.cols)} mask`, bytes: b.tokens + 4 * b.rows, run: () => pooledIndex({ kind: 'mask', mask: b.mask }, b.shape) };
  },
};

export const scoringOps: OpBench[] = [
  runningStatsBench, pooledIndexBench,
  headsBench('mlp', 'f32'), headsBench('mlp', 'bf16'), headsBench('linear', 'f32'), headsBench('linear', 'bf16'),
  ...ensembleBenches, ...shapingBenches, ...aggregateBenches, clipDeltaBench, potentialBench, dopamineBench, pipelineBench,
  bestOfNBench, weightedVoteBench, loadHeadBench,
];
