/**
 * The WebGPU runtime: one context holds the Dawn instance (strongly: if V8 collects it the process
 * dies, see ENVIRONMENT.md), the device with the adapter's limits, a pipeline cache keyed by shader,
 * entry point and `override` constants, and a buffer pool keyed by size class and usage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RewardkitError } from '../../errors.js';
import { packageRoot } from '../../paths.js';

export interface GpuContextOptions {
  /** Dawn toggles passed to `create()`, e.g. 'disable-dawn-features=timestamp_quantization'. */
  dawnFlags?: string[];
  powerPreference?: GPUPowerPreference;
  /**
   * Cap on bytes bound to one storage binding (default: the adapter's maxStorageBufferBindingSize).
   * Lower it to exercise the splitting paths on small inputs.
   */
  maxBindingSize?: number;
  /** Idle bytes the buffer pool may keep for reuse (default 1 GiB). */
  poolBytes?: number;
}

export interface AdapterDescription {
  vendor: string; architecture: string; device: string; description: string;
  software: boolean; features: string[]; limits: Record<string, number>;
}

type Dawn = { create(flags: string[]): GPU; globals: object };

let dawn: Dawn | undefined;
let dawnError: string | undefined;
/** Load the `webgpu` package once; failure is remembered as the reason WebGPU is unavailable. */
async function loadDawn(): Promise<Dawn> {
  if (dawn) return dawn;
  if (dawnError) throw new RewardkitError('E_BACKEND_UNAVAILABLE', dawnError);
  try {
    dawn = (await import('webgpu')) as unknown as Dawn;
    Object.assign(globalThis, dawn.globals); // GPUBufferUsage and friends
    process.env['XDG_RUNTIME_DIR'] ??= '/tmp'; // Mesa warns on every start without it
    return dawn;
  } catch (e) {
    dawnError = `the 'webgpu' package failed to load: ${(e as Error).message}`;
    throw new RewardkitError('E_BACKEND_UNAVAILABLE', dawnError, undefined, { cause: e });
  }
}

/** Sizes are pooled in classes of 1/8 of a power of two (≤ 12.5% waste), multiples of 256 bytes. */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  const step = Math.max(256, 2 ** Math.floor(Math.log2(b)) / 8);
  return Math.ceil(b / step) * step;
}

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  /** Bytes one storage binding may cover. */
  readonly maxBinding: number;
  readonly maxWorkgroups: number;
  readonly offsetAlignment: number;
  private readonly gpu: GPU; // held strongly for the device's whole life (see the module comment)
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly free = new Map<string, GPUBuffer[]>();
  private pooledBytes = 0;
  private lostReason: string | undefined;
  /** Upper bound on idle pooled bytes; beyond it released buffers are destroyed. */
  poolLimit: number;

  private constructor(gpu: GPU, device: GPUDevice, adapter: AdapterDescription, maxBinding: number, poolBytes: number) {
    this.gpu = gpu;
    this.poolLimit = poolBytes;
    this.device = device;
    this.adapter = adapter;
    this.maxBinding = maxBinding;
    this.maxWorkgroups = device.limits.maxComputeWorkgroupsPerDimension;
    this.offsetAlignment = device.limits.minStorageBufferOffsetAlignment;
    device.lost.then((info) => {
      this.lostReason ??= `the GPU device was lost (${info.reason}): ${info.message}`;
    });
    device.onuncapturederror = () => { /* every submission runs in error scopes; nothing escapes to stderr */ };
  }

  static async create(options: GpuContextOptions = {}): Promise<GpuContext> {
    const d = await loadDawn();
    const gpu = d.create(options.dawnFlags ?? []);
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    if (!adapter) throw new RewardkitError('E_BACKEND_UNAVAILABLE', 'no WebGPU adapter: install a Vulkan driver (mesa-vulkan-drivers from bookworm-backports gives lavapipe on a CPU-only machine)');
    // Ask for the adapter's limits: a device otherwise gets the spec defaults (128 MiB bindings).
    const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage'] as const;
    const requiredLimits: Record<string, number> = {};
    for (const k of want) requiredLimits[k] = adapter.limits[k];
    const device = await adapter.requestDevice({ requiredLimits });
    const info = adapter.info;
    const limits: Record<string, number> = {};
    for (const k in device.limits) { const v = (device.limits as unknown as Record<string, unknown>)[k]; if (typeof v === 'number') limits[k] = v; }
    const software = info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(`${info.device} ${info.description} ${info.architecture}`);
    const description: AdapterDescription = {
      vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
      software, features: [...adapter.features].sort(), limits,
    };
    const cap = options.maxBindingSize ?? Infinity;
    const maxBinding = Math.floor(Math.min(device.limits.maxStorageBufferBindingSize, cap) / 256) * 256;
    if (!(maxBinding >= 4096)) throw new RewardkitError('E_VALUE', `Expected maxBindingSize >= 4096 but received ${cap}`, 'maxBindingSize');
    return new GpuContext(gpu, device, description, maxBinding, options.poolBytes ?? 2 ** 30);
  }

  /** Throws E_DEVICE_LOST once the device is gone or the context disposed. */
  check(): void {
    if (this.lostReason) throw new RewardkitError('E_DEVICE_LOST', this.lostReason);
  }

  get lost(): boolean { return this.lostReason !== undefined; }

  /**
   * A compute pipeline for `shader` (a file in shaders/, without .wgsl), cached by entry point and
   * constants. Compile errors become E_GPU errors carrying the compiler's messages.
   */
  pipeline(shader: string, entryPoint = 'main', constants: Record<string, number> = {}): Promise<GPUComputePipeline> {
    const key = `${shader}:${entryPoint}:${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(shader);
      if (!module) {
        module = this.device.createShaderModule({ label: shader, code: shaderSource(shader) });
        this.modules.set(shader, module);
      }
      const m = module;
      p = this.device.createComputePipelineAsync({ label: key, layout: 'auto', compute: { module: m, entryPoint, constants } })
        .catch(async (e: unknown) => {
          this.pipelines.delete(key);
          const info = await m.getCompilationInfo();
          const detail = info.messages.map((x) => `${shader}.wgsl:${x.lineNum}:${x.linePos} ${x.type}: ${x.message}`).join('\n');
          throw new RewardkitError('E_GPU', `building pipeline ${key} failed: ${(e as Error).message}${detail ? '\n' + detail : ''}`);
        });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** A buffer of at least `bytes` for `usage`, from the pool when one is free. */
  acquire(bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(`${size}:${usage}`);
    const hit = list?.pop();
    if (hit) { this.pooledBytes -= size; return hit; }
    return this.device.createBuffer({ size, usage });
  }

  /** Return buffers to the pool (destroyed instead when the pool is full). */
  release(...buffers: GPUBuffer[]): void {
    for (const b of buffers) {
      if (this.lostReason || this.pooledBytes + b.size > this.poolLimit) { b.destroy(); continue; }
      const key = `${b.size}:${b.usage}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(b);
      this.pooledBytes += b.size;
    }
  }

  /** A pooled storage buffer holding `data` (u8 data is zero-padded to whole words). */
  upload(data: ArrayBufferView, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    const bytes = data.byteLength;
    const buffer = this.acquire(Math.max(bytes, 4), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | extraUsage);
    const whole = bytes & ~3;
    if (whole > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, whole);
    if (whole < bytes) {
      const tail = new Uint8Array(4);
      tail.set(new Uint8Array(data.buffer, data.byteOffset + whole, bytes - whole));
      this.device.queue.writeBuffer(buffer, whole, tail);
    }
    return buffer;
  }

  /** A uniform buffer of u32/i32/f32 words (bit patterns given as numbers in a Uint32Array). */
  uniforms(words: Uint32Array): GPUBuffer {
    const buffer = this.acquire(words.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buffer, 0, words);
    return buffer;
  }

  /**
   * Bind `count` elements of `elemBytes` from element `first` of `buffer`: the offset is aligned down
   * to minStorageBufferOffsetAlignment and `base` says where element `first` sits in the binding.
   */
  range(buffer: GPUBuffer, first: number, count: number, elemBytes: number): { resource: GPUBufferBinding; base: number } {
    const start = first * elemBytes;
    const offset = Math.floor(start / this.offsetAlignment) * this.offsetAlignment;
    const size = Math.min(buffer.size - offset, Math.ceil((start + count * elemBytes - offset) / 4) * 4 || 4);
    if (size > this.maxBinding) throw new RewardkitError('E_RANGE', `internal: a binding of ${size} bytes exceeds the limit ${this.maxBinding}`);
    return { resource: { buffer, offset, size }, base: (start - offset) / elemBytes };
  }

  /** Workgroup counts (x, y) covering `groups` workgroups within 65,535 per dimension. */
  grid(groups: number): [number, number] {
    if (groups <= this.maxWorkgroups) return [Math.max(groups, 1), 1];
    const y = Math.ceil(groups / this.maxWorkgroups);
    if (y > this.maxWorkgroups) throw new RewardkitError('E_RANGE', `internal: ${groups} workgroups exceed a 2-D dispatch`);
    return [Math.ceil(groups / y), y];
  }

  /**
   * Encode and submit work inside validation and out-of-memory error scopes, turning GPU errors
   * into RewardkitErrors; resolves when the submission has been made (not completed).
   */
  async submit(encode: (encoder: GPUCommandEncoder) => void): Promise<void> {
    this.check();
    const device = this.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    device.pushErrorScope('internal');
    try {
      const encoder = device.createCommandEncoder();
      encode(encoder);
      device.queue.submit([encoder.finish()]);
    } finally {
      const internal = await device.popErrorScope();
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      if (oom) throw new RewardkitError('E_OOM', `the GPU ran out of memory: ${oom.message}`);
      if (validation) throw new RewardkitError('E_GPU', `GPU validation error: ${validation.message}`);
      if (internal) throw new RewardkitError('E_GPU', `GPU internal error: ${internal.message}`);
      this.check();
    }
  }

  /** Copy each buffer's first `dest.byteLength` bytes into `dest`, through one mapped staging buffer. */
  async read(parts: Array<[GPUBuffer, ArrayBufferView]>): Promise<void> {
    const offsets: number[] = [];
    let total = 0;
    for (const [, dest] of parts) { offsets.push(total); total += Math.ceil(dest.byteLength / 4) * 4; }
    const staging = this.acquire(Math.max(total, 4), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    try {
      await this.submit((enc) => parts.forEach(([b, dest], i) => {
        if (dest.byteLength > 0) enc.copyBufferToBuffer(b, 0, staging, offsets[i]!, Math.ceil(dest.byteLength / 4) * 4);
      }));
      try {
        await staging.mapAsync(GPUMapMode.READ, 0, staging.size);
      } catch (e) {
        this.check();
        throw new RewardkitError('E_GPU', `mapping the results failed: ${(e as Error).message}`, undefined, { cause: e });
      }
      const mapped = staging.getMappedRange(0, staging.size);
      parts.forEach(([, dest], i) => new Uint8Array(dest.buffer, dest.byteOffset, dest.byteLength).set(new Uint8Array(mapped, offsets[i]!, dest.byteLength)));
      staging.unmap();
    } finally {
      this.release(staging);
    }
  }

  /** Destroy the device and drop pooled buffers and pipelines. The context is unusable afterwards. */
  dispose(): void {
    if (this.lostReason === undefined) this.lostReason = 'the GPU context was disposed';
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pipelines.clear();
    this.modules.clear();
    this.device.destroy();
    if (defaultContext && this === settled) { defaultContext = undefined; settled = undefined; }
  }
}

/**
 * A shader's WGSL with its `//! include <name>` lines replaced by shaders/include/<name>.wgsl: small
 * helpers several kernels share (they may use the including module's bindings, e.g. `offsets`).
 */
export function shaderSource(shader: string): string {
  const dir = join(packageRoot(), 'shaders');
  return readFileSync(join(dir, `${shader}.wgsl`), 'utf8')
    .replace(/^\/\/! include ([\w-]+)$/gm, (_, name: string) => readFileSync(join(dir, 'include', `${name}.wgsl`), 'utf8'));
}

let defaultContext: Promise<GpuContext> | undefined;
let settled: GpuContext | undefined;
let failure: string | undefined;

/** The shared context, created on first use. */
export function getContext(): Promise<GpuContext> {
  if (!defaultContext) {
    defaultContext = GpuContext.create().then(
      (c) => { settled = c; failure = undefined; return c; },
      (e: unknown) => { failure = (e as Error).message; defaultContext = undefined; throw e; },
    );
  }
  return defaultContext;
}

/** A context of your own (other limits or toggles); call `dispose()` when done. */
export function createContext(options?: GpuContextOptions): Promise<GpuContext> {
  return GpuContext.create(options);
}

/** Dispose the shared context (a later WebGPU call creates a new one). */
export function disposeDefaultContext(): void {
  settled?.dispose();
  defaultContext = undefined;
  settled = undefined;
}

/** What is known about the shared context without waiting: used by `auto`. */
export function gpuStatusSync(): { ready: boolean; software: boolean; reason: string | undefined } {
  return { ready: !!settled && !settled.lost, software: settled?.adapter.software ?? true, reason: failure };
}

/** Whether WebGPU can run here, and why not (creates the shared context). */
export async function gpuStatus(): Promise<{ available: boolean; reason: string; adapter?: AdapterDescription }> {
  try {
    const c = await getContext();
    return { available: true, reason: 'ok', adapter: c.adapter };
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
}
