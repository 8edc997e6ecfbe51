/**
 * Runs op declarations on every available backend and peer over their size sweep, with rooflines
 * measured in the same run, and returns a `BenchReport`. Each case is set up once per size and
 * every backend times the same inputs; a failing case is recorded and the run goes on.
 */
import { cpus, totalmem, type as osType, release } from 'node:os';
import { Bench } from 'tinybench';
import { nativeStatus } from '../backends/native.js';
import type { Concrete } from '../backends/select.js';
import { getContext, gpuStatus, type GpuContext } from '../backends/webgpu/context.js';
import { Rooflines, samplesOf } from './roofline.js';
import { measureUpload } from './upload.js';
import { stats } from './stats.js';
import type { BenchCase, BenchFailure, BenchReport, BenchResult, OpBench, Peer, Preset } from './types.js';

export interface RunOptions {
  preset: Preset;
  /** Keep ops whose id, op name or family contains one of these (case-insensitive). */
  ops?: readonly string[];
  /** Keep these backends and peers by name (default: all available). */
  backends?: readonly string[];
  /** Only sizes within [minSize, maxSize] (in each op's unit). */
  minSize?: number;
  maxSize?: number;
  /** Peers to measure beside rewardkit (probed; absent ones are reported 'not installed'). */
  peers?: readonly Peer[];
  /** Minimum time (ms, default 100) and calls (3) per measurement, after `warmup` calls (1). */
  minTimeMs?: number;
  minIterations?: number;
  warmup?: number;
  /**
   * Skip a backend at a size when its time per call, extrapolated from its previous size in
   * proportion to the work (FLOPs, else bytes, else size), would exceed this (ms; default 1,000): keeps the JS reference from eating a GPU-sized sweep.
   */
  maxCallMs?: number;
  /** Called as each measurement ends (for progress on screen). */
  onResult?: (r: BenchResult, done: number, total: number) => void;
  onFailure?: (f: BenchFailure) => void;
  /** Stops the run after the measurement in progress; the report then holds what was measured (`partial`). */
  signal?: AbortSignal;
  /** With WebGPU: measure every upload path at these sizes (bytes) and the tiny-op latency. */
  uploadSizes?: readonly number[];
  command?: string;
}

/**
 * The ops that pass the filter: a family name, or the start of the op name or of the variant
 * (case-insensitive): 'outcome' keeps every outcomeAdvantages/*, 'rloo' keeps outcomeAdvantages/rloo
 * and outcomeAdvantages/rloo_vectorized, 'grpoAdvantages' keeps only grpoAdvantages.
 */
export function selectOps(all: readonly OpBench[], filters?: readonly string[]): OpBench[] {
  if (!filters?.length) return [...all];
  const f = filters.map((x) => x.toLowerCase());
  return all.filter((o) => f.some((x) => o.family === x || o.id.toLowerCase() === x || o.id.toLowerCase().split('/').some((part) => part.startsWith(x))));
}

export async function runBench(all: readonly OpBench[], options: RunOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const minTimeMs = options.minTimeMs ?? 100, minIterations = options.minIterations ?? 3, warmup = options.warmup ?? 1;
  const want = (name: string) => !options.backends?.length || options.backends.includes(name);
  const native = nativeStatus();
  const gpu = want('webgpu') ? await gpuStatus() : undefined;
  const available = new Set<Concrete>(['js']);
  if (native.available) available.add('native');
  let ctx: GpuContext | undefined;
  if (gpu?.available) { available.add('webgpu'); ctx = await getContext(); }
  const backends = [...available].filter(want);

  const peerStatus: BenchReport['peers'] = [];
  const peers: Peer[] = [];
  for (const p of options.peers ?? []) {
    if (!want(p.name)) continue;
    const s = await p.probe().catch((e: unknown) => ({ ok: false, reason: (e as Error).message, version: undefined }));
    peerStatus.push({ name: p.name, status: s.ok ? 'ok' : 'not installed', ...(s.version ? { version: s.version } : {}), ...(s.reason ? { reason: s.reason } : {}) });
    if (s.ok) peers.push(p);
  }

  const ops = selectOps(all, options.ops);
  const sizesOf = (o: OpBench) => o.sizes[options.preset].filter((s) => s >= (options.minSize ?? 0) && s <= (options.maxSize ?? Infinity));
  const total = ops.reduce((n, o) => n + sizesOf(o).length * (o.backends.filter((b) => backends.includes(b)).length + peers.length), 0);
  const roof = new Rooflines(native.available, ctx, Math.min(minTimeMs, 100));
  const results: BenchResult[] = [];
  const failures: BenchFailure[] = [];
  const skipped: NonNullable<BenchReport['skipped']> = [];
  const last = new Map<string, { work: number; ms: number }>();
  const maxCallMs = options.maxCallMs ?? 1000;
  let done = 0;
  const fail = (f: BenchFailure) => { failures.push(f); options.onFailure?.(f); };

  const stop = () => options.signal?.aborted === true;
  for (const op of ops) {
    if (stop()) break;
    for (const size of sizesOf(op)) {
      if (stop()) break;
      let c: BenchCase;
      try {
        c = await op.setup(size);
      } catch (e) {
        fail({ id: op.id, size, backend: 'setup', error: (e as Error).message });
        done += op.backends.filter((b) => backends.includes(b)).length + peers.length;
        continue;
      }
      const work = c.flops || c.bytes || size;
      /** Record one measurement, and its time per unit of work for tooLong(). */
      const record = async (backend: string, peer: boolean, samples: number[]) => {
        const s = stats(samples);
        last.set(`${op.id}:${backend}`, { work, ms: s.medianMs });
        const kind = backend === 'webgpu' ? 'device-copy' : 'host-memcpy';
        const point = op.bound === 'memory' && c.bytes > 0 ? await roof.at(kind, c.bytes) : undefined;
        const r: BenchResult = {
          id: op.id, op: op.op, family: op.family, unit: op.unit, size, elements: c.elements ?? size, label: c.label, backend, peer,
          bytes: c.bytes, gbps: c.bytes / s.medianMs / 1e6, ...s,
          ...(point ? { roofline: { kind, gbps: point.gbps, fraction: point.ms / s.medianMs } } : {}),
          ...(c.flops ? { flops: c.flops, gflops: c.flops / s.medianMs / 1e6 } : {}),
        };
        results.push(r);
        options.onResult?.(r, ++done, total);
      };
      /** Whether `who`'s call here, extrapolated from its previous size, would pass maxCallMs (then skipped). */
      const tooLong = (who: string) => {
        const prev = last.get(`${op.id}:${who}`);
        const predicted = prev ? (prev.ms * work) / prev.work : 0;
        if (predicted <= maxCallMs) return false;
        skipped.push({ id: op.id, size, backend: who, reason: `~${Math.round(predicted)} ms per call predicted (limit ${maxCallMs} ms)` });
        done++;
        return true;
      };
      for (const backend of op.backends.filter((b) => backends.includes(b))) {
        if (stop() || tooLong(backend)) continue;
        const bench = new Bench({ time: minTimeMs, iterations: minIterations, warmupIterations: warmup, warmupTime: 0, retainSamples: true, throws: false });
        bench.add(backend, async () => { await c.run(backend); });
        await bench.run();
        const task = bench.tasks[0]!;
        const samples = samplesOf(task.result);
        const error = (task.result as { error?: Error }).error;
        if (error || samples.length === 0) { fail({ id: op.id, size, backend, error: error?.message ?? 'no samples' }); done++; continue; }
        await record(backend, false, samples);
      }
      for (const p of peers) {
        if (stop() || !c.peer || !p.supports(c.peer.op)) { done++; continue; }
        if (tooLong(p.name)) continue;
        try {
          await record(p.name, true, await p.time(c.peer, { minTimeMs, minIterations }));
        } catch (e) {
          fail({ id: op.id, size, backend: p.name, error: (e as Error).message });
          done++;
        }
      }
      await c.dispose?.();
    }
  }

  const upload = ctx && options.uploadSizes?.length && !stop() ? await measureUpload(ctx, [...options.uploadSizes], { runs: 5, overheadRuns: 30 }) : undefined;
  const cpu = cpus();
  return {
    version: 1, date: new Date().toISOString(), command: options.command ?? 'rewardkit bench', preset: options.preset,
    machine: { cpu: cpu[0]?.model.trim() ?? 'unknown', cores: cpu.length, memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${osType()} ${release()}`, node: process.version },
    native: (native.info as Record<string, unknown> | undefined) ?? null,
    adapter: gpu?.adapter ? { vendor: gpu.adapter.vendor, architecture: gpu.adapter.architecture, device: gpu.adapter.device, description: gpu.adapter.description, software: gpu.adapter.software } : null,
    rooflines: roof.list(), peers: peerStatus,
    ops: ops.map((o) => ({ id: o.id, op: o.op, family: o.family, unit: o.unit, bound: o.bound, backends: o.backends.filter((b) => backends.includes(b)) })),
    results, failures, skipped, ...(upload ? { upload } : {}), ...(stop() ? { partial: true } : {}), durationS: (performance.now() - t0) / 1000,
  };
}
