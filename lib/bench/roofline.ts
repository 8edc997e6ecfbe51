/**
 * Rooflines measured in the run: how long a plain copy of the same bytes takes. Memory-bound ops are
 * judged by the fraction of that bandwidth they reach. On the host the copy is the faster of the
 * addon's all-core copy and `TypedArray.set` (one thread); on the device it is a buffer-to-buffer
 * copy. A copy of `bytes` reads bytes/2 and writes bytes/2, matching how ops count read + written.
 * Points are measured once per byte count (within ±20%) and reused.
 */
import { Bench } from 'tinybench';
import { loadNative } from '../backends/native.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { stats } from './stats.js';
import type { Roofline, RooflineKind } from './types.js';

type Point = Roofline['points'][number];

export class Rooflines {
  readonly host: Roofline = { kind: 'host-memcpy', label: 'host memcpy (faster of all-core native copy and TypedArray.set)', points: [] };
  readonly device: Roofline = { kind: 'device-copy', label: 'device buffer-to-buffer copy', points: [] };

  constructor(private readonly native: boolean, private readonly gpu: GpuContext | undefined, private readonly minTimeMs: number) {}

  list(): Roofline[] { return [this.host, this.device].filter((r) => r.points.length > 0); }

  /** The roofline point for `bytes` on `kind`, measuring it when no point within ±20% exists. */
  async at(kind: RooflineKind, bytes: number): Promise<Point | undefined> {
    const line = kind === 'host-memcpy' ? this.host : this.device;
    if (kind === 'device-copy' && !this.gpu) return undefined;
    const near = line.points.find((p) => Math.abs(p.bytes - bytes) <= 0.2 * bytes);
    if (near) return near;
    const ms = kind === 'host-memcpy' ? await this.hostCopy(bytes) : await this.deviceCopy(bytes);
    const point = { bytes, ms, gbps: bytes / ms / 1e6 };
    line.points.push(point);
    line.points.sort((a, b) => a.bytes - b.bytes);
    return point;
  }

  private async hostCopy(bytes: number): Promise<number> {
    const half = Math.max(4, Math.ceil(bytes / 8) * 4);
    const src = new Uint8Array(half).fill(1), dst = new Uint8Array(half).fill(2);
    const bench = new Bench({ time: this.minTimeMs, iterations: 5, warmupIterations: 2, warmupTime: 0, retainSamples: true });
    bench.add('set', () => { dst.set(src); });
    if (this.native) { const addon = loadNative(); bench.add('native', async () => { await addon.copy(dst, src); }); }
    await bench.run();
    return Math.min(...bench.tasks.map((t) => stats(samplesOf(t.result)).medianMs));
  }

  private async deviceCopy(bytes: number): Promise<number> {
    const ctx = this.gpu!;
    const half = Math.max(256, Math.ceil(bytes / 512) * 256);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const a = ctx.device.createBuffer({ size: half, usage }), b = ctx.device.createBuffer({ size: half, usage });
    // Several copies per submission hide the submit cost, as a kernel inside a fused step sees it.
    const reps = half < 1 << 20 ? 16 : half < 64 << 20 ? 4 : 1;
    try {
      const once = async () => {
        await ctx.submit((enc) => { for (let i = 0; i < reps; i++) enc.copyBufferToBuffer(a, 0, b, 0, half); });
        await ctx.device.queue.onSubmittedWorkDone();
      };
      await once();
      const samples: number[] = [];
      const start = performance.now();
      while (samples.length < 5 || performance.now() - start < this.minTimeMs) {
        const t0 = performance.now();
        await once();
        samples.push((performance.now() - t0) / reps);
      }
      return stats(samples).medianMs;
    } finally {
      a.destroy(); b.destroy();
    }
  }
}

/** Per-call samples (ms) from a tinybench task result; empty when the task failed. */
export function samplesOf(result: unknown): number[] {
  const r = result as { latency?: { samples?: readonly number[] } } | undefined;
  return r?.latency?.samples ? [...r.latency.samples] : [];
}
