/**
 * A small synthetic report shaped like a `--preset small` run on the 2-core development VM: three
 * families, five ops (memory-, compute- and cpu-bound), js/native/webgpu (lavapipe), numpy as a peer,
 * PyTorch not installed, both rooflines and one failure. For the report's tests and for previewing.
 * Times follow overhead + work / rate with a fixed ±6% wobble, so the charts have realistic shapes.
 */
import type { BenchReport, BenchResult, Bound, Family, Roofline } from '../types.js';
import { count, rooflineAt } from './figures.js';

interface Rate { overheadMs: number; rate: number }
interface SampleOp {
  id: string; op: string; family: Family; unit: string; bound: Bound; backends: string[];
  sizes: number[];
  bytes(size: number): number;
  /** Work per size in the rate's unit: bytes (GB/s), FLOPs (GFLOP/s) or items (items/ms). */
  flops?(size: number): number;
  label(size: number): string;
  rates: Record<string, Rate>;
}

const hostCopy: Roofline = {
  kind: 'host-memcpy', label: 'host memcpy (native, 2 threads)',
  points: [[1 << 16, 12], [1 << 20, 38], [1 << 23, 45], [1 << 26, 34], [1 << 28, 30]].map(([bytes, gbps]) => ({ bytes: bytes!, gbps: gbps!, ms: bytes! / gbps! / 1e6 })),
};
const deviceCopy: Roofline = {
  kind: 'device-copy', label: 'device buffer copy (lavapipe)',
  points: [[1 << 16, 0.4], [1 << 20, 2.9], [1 << 23, 5.8], [1 << 26, 6.3]].map(([bytes, gbps]) => ({ bytes: bytes!, gbps: gbps!, ms: bytes! / gbps! / 1e6 })),
};

const fmt = count;
const ops: SampleOp[] = [
  {
    id: 'outcomeAdvantages/grpo', op: 'outcomeAdvantages', family: 'advantages', unit: 'tokens', bound: 'memory',
    backends: ['js', 'native', 'webgpu'], sizes: [1 << 13, 1 << 16, 1 << 19, 1 << 22, 1 << 24],
    bytes: (n) => n * 5 + (n / 1024) * 12, label: (n) => `${fmt(n / 1024)} × 1,024 tokens, groups of 16`,
    rates: { js: { overheadMs: 0.002, rate: 3.5 }, native: { overheadMs: 0.04, rate: 24 }, webgpu: { overheadMs: 0.35, rate: 0.9 }, numpy: { overheadMs: 0.03, rate: 2.1 } },
  },
  {
    id: 'gae', op: 'gae', family: 'advantages', unit: 'tokens', bound: 'memory',
    backends: ['js', 'native'], sizes: [1 << 16, 1 << 20, 1 << 23],
    bytes: (n) => n * 17, label: (n) => `${fmt(n / 1024)} × 1,024 tokens, γ = 1, λ = 0.95`,
    rates: { js: { overheadMs: 0.003, rate: 1.35 }, native: { overheadMs: 0.05, rate: 8.4 }, numpy: { overheadMs: 0.4, rate: 0.05 } },
  },
  {
    id: 'scoreHeads/mlp', op: 'scoreHeads', family: 'scoring', unit: 'responses', bound: 'compute',
    backends: ['js', 'native', 'webgpu'], sizes: [16, 64, 256, 1024],
    bytes: (n) => n * 4096 * 4 + 4 * 1024 * 4096 * 4, flops: (n) => 2 * n * 4096 * 1024 * 4,
    label: (n) => `${fmt(n)} responses, hidden 4,096, 4 MLP heads of width 1,024`,
    rates: { js: { overheadMs: 0.01, rate: 1.6 }, native: { overheadMs: 0.06, rate: 58 }, webgpu: { overheadMs: 0.5, rate: 7.5 }, numpy: { overheadMs: 0.05, rate: 44 } },
  },
  {
    id: 'aggregateEnsemble/mean', op: 'aggregateEnsemble', family: 'scoring', unit: 'responses', bound: 'memory',
    backends: ['js', 'native', 'webgpu'], sizes: [1 << 12, 1 << 16, 1 << 20],
    bytes: (n) => n * 8 * 4 + n * 4, label: (n) => `8 members × ${fmt(n)} responses`,
    rates: { js: { overheadMs: 0.002, rate: 4.1 }, native: { overheadMs: 0.035, rate: 19 }, webgpu: { overheadMs: 0.3, rate: 1.1 }, numpy: { overheadMs: 0.015, rate: 5.2 } },
  },
  {
    id: 'ruleRewards/math', op: 'ruleRewards', family: 'rules', unit: 'answers', bound: 'cpu',
    backends: ['js'], sizes: [256, 2048, 16384],
    bytes: (n) => n * 220, label: (n) => `${fmt(n)} \\boxed{} answers against LaTeX references`,
    rates: { js: { overheadMs: 0.05, rate: 190 } },
  },
];

/** A fixed wobble in [-1, 1] from a string. */
function wobble(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return ((h >>> 0) / 2 ** 32) * 2 - 1;
}

function result(o: SampleOp, backend: string, size: number): BenchResult {
  const { overheadMs, rate } = o.rates[backend]!;
  const bytes = o.bytes(size), flops = o.flops?.(size);
  const work = o.bound === 'memory' ? bytes / rate / 1e6 : o.bound === 'compute' ? flops! / rate / 1e6 : size / rate;
  const medianMs = (overheadMs + work) * (1 + 0.06 * wobble(`${o.id}|${backend}|${size}`));
  const gbps = bytes / medianMs / 1e6;
  const peer = !o.backends.includes(backend);
  const roof = o.bound === 'memory' ? (backend === 'webgpu' ? deviceCopy : hostCopy) : undefined;
  const roofGbps = roof && rooflineAt(roof, bytes);
  return {
    id: o.id, op: o.op, family: o.family, unit: o.unit, size, elements: size, label: o.label(size), backend, peer, bytes, gbps,
    medianMs, meanMs: medianMs * 1.03, minMs: medianMs * 0.93, p25Ms: medianMs * 0.97, p75Ms: medianMs * 1.06, p99Ms: medianMs * 1.4,
    samples: Math.max(5, Math.min(200, Math.round(500 / medianMs))),
    ...(roof && roofGbps ? { roofline: { kind: roof.kind, gbps: roofGbps, fraction: gbps / roofGbps } } : {}),
    ...(flops ? { flops, gflops: flops / medianMs / 1e6 } : {}),
  };
}

const failed = { id: 'outcomeAdvantages/grpo', size: 1 << 24, backend: 'webgpu' };

export function sampleReport(): BenchReport {
  const results = ops.flatMap((o) => o.sizes.flatMap((size) => Object.keys(o.rates)
    .filter((b) => !(o.id === failed.id && size === failed.size && b === failed.backend))
    .map((b) => result(o, b, size))));
  return {
    version: 1,
    date: '2026-11-28T10:12:03.000Z',
    command: 'rewardkit bench --preset small --peers numpy,torch-cpu --html bench.html',
    preset: 'small',
    machine: { cpu: 'AMD EPYC 7B13', cores: 2, memoryGiB: 23.5, os: 'Debian GNU/Linux 12 (bookworm), Linux 6.1', node: 'v20.20.0' },
    native: { available: true, simd: 'avx512', compiler: 'g++ 12.2.0', threads: 2 },
    adapter: { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 19.1.7, 256 bits)', description: 'lavapipe (Mesa 25.0.7)', software: true },
    rooflines: [hostCopy, deviceCopy],
    peers: [
      { name: 'numpy', status: 'ok', version: '1.26.4' },
      { name: 'torch-cpu', status: 'not installed', reason: "python3 could not import torch (No module named 'torch')" },
    ],
    ops: ops.map(({ id, op, family, unit, bound, backends }) => ({ id, op, family, unit, bound, backends })),
    results,
    failures: [{ ...failed, error: 'RewardkitError [GPU_OUT_OF_MEMORY]: 576 MiB of buffers > pool <512 MiB> & "poolBytes" too small' }],
    durationS: 212.4,
  };
}
