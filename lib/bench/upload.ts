/**
 * Host→device upload bandwidth of each `GpuContext.upload()` path, and the per-call overhead of a
 * tiny op (the small-batch latency), on one context. docs/gpu-upload.md explains the paths. From a
 * script (after `npx tsc -p .`):
 *
 *   import { createContext } from './dist/lib/index.js';
 *   import { measureUpload, formatUpload } from './dist/lib/bench/upload.js';
 *   const ctx = await createContext();
 *   console.log(formatUpload(await measureUpload(ctx, [2 ** 20, 2 ** 24, 2 ** 28, 2 ** 30])));
 *   ctx.dispose();
 */
import { uploadMethods, type GpuContext, type UploadMethod } from '../backends/webgpu/context.js';
import { bytesText } from './report/figures.js';
import { stats } from './stats.js';

/** One path to time: a method and its chunk (0 or absent: the method's default). */
export interface UploadVariant {
  method: UploadMethod;
  chunkBytes?: number;
  /**
   * Clear the destination on the GPU between runs (untimed). Where storage memory is host-visible
   * (lavapipe) Dawn's writeBuffer memcpys directly only into a buffer the GPU has not written; this
   * shows its other path, the one a discrete GPU always takes.
   */
  afterGpuWrite?: boolean;
}

export interface UploadMeasureOptions {
  /** The paths to compare (default `uploadVariants`). */
  variants?: readonly UploadVariant[];
  /** Timed uploads per variant and size, after one untimed warm-up (default 5). */
  runs?: number;
  /** Timed tiny-op calls per variant, after 5 warm-up calls (default 50; 0 skips the overhead). */
  overheadRuns?: number;
}

export interface UploadTiming {
  method: UploadMethod; chunkBytes: number; label: string; bytes: number;
  /** Median ms from `upload()` to `onSubmittedWorkDone` after the copies. */
  medianMs: number;
  /** bytes / median, in GB/s (1e9 bytes). */
  gbps: number;
  samplesMs: number[];
}

export interface OverheadTiming { method: UploadMethod; chunkBytes: number; label: string; medianMs: number; samplesMs: number[] }

export interface UploadReport {
  adapter: string;
  /** A software rasterizer (lavapipe): its figures show relative API cost, not a GPU's. */
  software: boolean;
  uploads: UploadTiming[];
  /** Upload 4 KiB + one trivial dispatch + 4 KiB readback, end to end (one row per method). */
  overhead: OverheadTiming[];
}

const MiB = 2 ** 20;

/**
 * Today's path whole and in pieces below and above Dawn's 4 MiB ring, a buffer created mapped, and
 * the staging path at three chunk sizes.
 */
export const uploadVariants: readonly UploadVariant[] = [
  { method: 'write-buffer' },
  { method: 'write-buffer', chunkBytes: 2 * MiB },
  { method: 'write-buffer', chunkBytes: 16 * MiB },
  { method: 'mapped' },
  { method: 'staging', chunkBytes: 4 * MiB },
  { method: 'staging', chunkBytes: 16 * MiB },
  { method: 'staging', chunkBytes: 64 * MiB },
];

export function variantLabel(v: UploadVariant): string {
  return (v.chunkBytes ? `${v.method} ${bytesText(v.chunkBytes)} chunks` : v.method) + (v.afterGpuWrite ? ' (after GPU writes)' : '');
}

export async function measureUpload(ctx: GpuContext, sizesBytes: number[], options: UploadMeasureOptions = {}): Promise<UploadReport> {
  const variants = options.variants ?? uploadVariants;
  const runs = options.runs ?? 5;
  const saved = [ctx.uploadMethod, ctx.uploadChunkBytes] as const;
  const uploads: UploadTiming[] = [];
  const overhead: OverheadTiming[] = [];
  try {
    for (const bytes of sizesBytes) {
      const data = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i += 4096) data[i] = i >>> 12; // touch every page before timing
      for (const v of variants) {
        select(ctx, v);
        // Each path starts from an empty pool, so none inherits buffers another path wrote (on
        // lavapipe writeBuffer is a direct memcpy only into a buffer the GPU has not written).
        await ctx.settle();
        ctx.trim();
        const samples: number[] = [];
        for (let r = 0; r <= runs; r++) {
          const ms = await timeUpload(ctx, data, v.afterGpuWrite ?? false);
          if (r > 0) samples.push(ms);
        }
        const medianMs = stats(samples).medianMs;
        uploads.push({ method: v.method, chunkBytes: v.chunkBytes ?? 0, label: variantLabel(v), bytes, medianMs, gbps: bytes / medianMs / 1e6, samplesMs: samples });
      }
    }
    const overheadRuns = options.overheadRuns ?? 50;
    if (overheadRuns > 0) {
      const tiny = await tinyOp(ctx);
      try {
        // At 4 KiB the chunk never matters: one row per method, on its first plain variant.
        const methods = uploadMethods
          .map((m) => variants.find((v) => v.method === m && !v.afterGpuWrite) ?? (variants.some((v) => v.method === m) ? { method: m } : undefined))
          .filter((v): v is UploadVariant => v !== undefined);
        for (const v of methods) {
          select(ctx, v);
          await ctx.settle();
          ctx.trim();
          for (let r = 0; r < 5; r++) await tiny.call();
          const samples: number[] = [];
          for (let r = 0; r < overheadRuns; r++) samples.push(await tiny.call());
          overhead.push({ method: v.method, chunkBytes: v.chunkBytes ?? 0, label: variantLabel(v), medianMs: stats(samples).medianMs, samplesMs: samples });
        }
      } finally { tiny.dispose(); }
    }
  } finally {
    [ctx.uploadMethod, ctx.uploadChunkBytes] = saved;
    await ctx.settle();
  }
  const a = ctx.adapter;
  return { adapter: [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / '), software: a.software, uploads, overhead };
}

function select(ctx: GpuContext, v: UploadVariant): void {
  ctx.uploadMethod = v.method;
  ctx.uploadChunkBytes = v.chunkBytes ?? 0;
}

/** One upload, done when the GPU has finished its copies; staging buffers are back before it starts. */
async function timeUpload(ctx: GpuContext, data: Uint8Array, afterGpuWrite: boolean): Promise<number> {
  await ctx.settle();
  const t0 = performance.now();
  const buffer = ctx.upload(data);
  ctx.device.queue.submit([]); // writeBuffer's copies wait in Dawn's pending commands until a submit
  await ctx.device.queue.onSubmittedWorkDone();
  const ms = performance.now() - t0;
  if (afterGpuWrite) await ctx.submit((encoder) => encoder.clearBuffer(buffer));
  discard(ctx, buffer);
  return ms;
}

/** 'mapped' buffers never come from the pool: destroy them rather than fill the pool with them. */
function discard(ctx: GpuContext, buffer: GPUBuffer): void {
  if (ctx.uploadMethod === 'mapped') buffer.destroy();
  else ctx.release(buffer);
}

const tinyShader = /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < arrayLength(&b)) { b[g.x] = 2.0 * a[g.x] + 1.0; }
}`;

/** Upload 4 KiB, `b = 2a + 1` on it, read 4 KiB back: the fixed cost every small op pays. */
async function tinyOp(ctx: GpuContext): Promise<{ call(): Promise<number>; dispose(): void }> {
  const n = 1024;
  const module = ctx.device.createShaderModule({ label: 'upload-bench', code: tinyShader });
  const pipeline = await ctx.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const x = Float32Array.from({ length: n }, (_, i) => i);
  const out = new Float32Array(n);
  const y = ctx.acquire(n * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  return {
    async call() {
      const t0 = performance.now();
      const a = ctx.upload(x);
      try {
        await ctx.submit((encoder) => {
          const pass = encoder.beginComputePass();
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, ctx.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: a } }, { binding: 1, resource: { buffer: y } }] }));
          pass.dispatchWorkgroups(n / 64);
          pass.end();
        });
        await ctx.read([[y, out]]);
      } finally { discard(ctx, a); }
      const ms = performance.now() - t0;
      if (out[n - 1] !== 2 * (n - 1) + 1) throw new Error(`upload bench: the tiny op computed ${out[n - 1]}, expected ${2 * (n - 1) + 1}`);
      return ms;
    },
    dispose() { ctx.release(y); },
  };
}

/** A markdown summary: GB/s per path and size, then the tiny op's median ms per path. */
export function formatUpload(r: UploadReport): string {
  const sizes = [...new Set(r.uploads.map((u) => u.bytes))];
  const labels = [...new Set([...r.uploads, ...r.overhead].map((u) => u.label))];
  const lines = [
    `Upload paths on ${r.adapter}${r.software ? ' (software: a CPU, so these show relative API cost only)' : ''}`,
    '',
    `| path | ${sizes.map((s) => `${bytesText(s)} GB/s (ms)`).join(' | ')} | tiny op ms |`,
    `| --- | ${sizes.map(() => '---').join(' | ')} | --- |`,
  ];
  for (const label of labels) {
    const cells = sizes.map((s) => {
      const u = r.uploads.find((x) => x.label === label && x.bytes === s);
      return u ? `${u.gbps.toFixed(2)} (${u.medianMs.toFixed(2)})` : '';
    });
    const o = r.overhead.find((x) => x.label === label);
    lines.push(`| ${label} | ${cells.join(' | ')} | ${o ? o.medianMs.toFixed(3) : ''} |`);
  }
  return lines.join('\n');
}
