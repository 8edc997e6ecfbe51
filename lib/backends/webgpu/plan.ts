/**
 * A GPU plan: the buffers and compute passes of one op (or of several chained ops), encoded into one
 * submission with no readback in between, then one mapped read of the results the caller asks for.
 *
 *   const plan = new GpuPlan(ctx);
 *   try {
 *     const x = plan.upload(values), y = plan.scratch(n * 4, GPUBufferUsage.COPY_SRC);
 *     plan.add('my_shader', 'main', Math.ceil(n / 256), words([n, 0, 0, 0]), [whole(x), whole(y)]);
 *     await plan.run();
 *     await plan.read([[y, out]]);
 *   } finally { plan.release(); }
 *
 * Binding 0 of every pass is its uniforms (`words`); the buffers follow as bindings 1, 2, ….
 * Ops that chain (grpoStep) encode their passes into the same plan and share its buffers.
 */
import type { GpuContext } from './context.js';

/** A uniform block from u32 words and f32 values ({ f32: x }), padded to 16 bytes. */
export function words(values: Array<number | { f32: number }>): Uint32Array {
  const w = new Uint32Array(Math.max(4, Math.ceil(values.length / 4) * 4));
  const f = new Float32Array(w.buffer);
  values.forEach((v, i) => { if (typeof v === 'number') w[i] = v; else f[i] = v.f32; });
  return w;
}

/** Bind a whole buffer. */
export const whole = (buffer: GPUBuffer): GPUBufferBinding => ({ buffer });

export class GpuPlan {
  readonly ctx: GpuContext;
  private readonly owned: GPUBuffer[] = [];
  private passes: Array<{ pipeline: Promise<GPUComputePipeline>; entries: GPUBindGroupEntry[]; groups: number }> = [];
  private dummyBuffer: GPUBuffer | undefined;

  constructor(ctx: GpuContext) {
    ctx.check();
    this.ctx = ctx;
  }

  /** A pooled storage buffer holding `data` (released with the plan). */
  upload(data: ArrayBufferView, usage: GPUBufferUsageFlags = 0): GPUBuffer {
    const b = this.ctx.upload(data, usage);
    this.owned.push(b);
    return b;
  }

  /** A pooled storage buffer of at least `bytes` (contents undefined; released with the plan). */
  scratch(bytes: number, usage: GPUBufferUsageFlags = 0): GPUBuffer {
    const b = this.ctx.acquire(Math.max(bytes, 4), GPUBufferUsage.STORAGE | usage);
    this.owned.push(b);
    return b;
  }

  /** A small buffer to bind where a shader's optional input is absent. */
  get dummy(): GPUBuffer {
    return (this.dummyBuffer ??= this.upload(new Uint32Array(8)));
  }

  /** Append a compute pass: `groups` workgroups (2-D past 65,535), uniforms, then `bindings` in order. */
  add(shader: string, entry: string, groups: number, uniforms: Uint32Array, bindings: GPUBufferBinding[], constants: Record<string, number> = {}): void {
    const u = this.ctx.uniforms(uniforms);
    this.owned.push(u);
    this.passes.push({
      pipeline: this.ctx.pipeline(shader, entry, constants),
      entries: [{ binding: 0, resource: { buffer: u } }, ...bindings.map((resource, i) => ({ binding: i + 1, resource }))],
      groups,
    });
  }

  /** Encode every pass added so far into one compute pass and submit it. */
  async run(): Promise<void> {
    const passes = this.passes;
    this.passes = [];
    if (!passes.length) return;
    const pipelines = await Promise.all(passes.map((x) => x.pipeline));
    const ctx = this.ctx;
    await ctx.submit((encoder) => {
      const pass = encoder.beginComputePass();
      passes.forEach(({ entries, groups }, i) => {
        const pipeline = pipelines[i]!;
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, ctx.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
        const [x, y] = ctx.grid(groups);
        pass.dispatchWorkgroups(x, y);
      });
      pass.end();
    });
  }

  /** Read buffers (each created with COPY_SRC) into host arrays, one mapped staging buffer. */
  read(parts: Array<[GPUBuffer, ArrayBufferView]>): Promise<void> {
    return this.ctx.read(parts);
  }

  /** Return every buffer to the pool. */
  release(): void {
    this.ctx.release(...this.owned.splice(0));
    this.dummyBuffer = undefined;
  }
}

/** Split [0, count) into chunks of at most `size` (a positive multiple of `align`). */
export function* chunks(count: number, size: number): Generator<[start: number, length: number]> {
  for (let s = 0; s < count; s += size) yield [s, Math.min(size, count - s)];
}
