/**
 * The WebGPU runtime: one context holds the Dawn instance (strongly: if V8 collects it the process
 * dies, see ENVIRONMENT.md), the device with the adapter's limits, a pipeline cache keyed by shader,
 * entry point and `override` constants, a buffer pool keyed by size class and usage, and the
 * host→device upload path (docs/gpu-upload.md).
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
  /** How `upload()` moves host data to the device (default: `defaultUpload(adapter)`; see `UploadMethod`). */
  upload?: UploadMethod;
  /**
   * Bytes per piece of an upload: per `writeBuffer` call ('write-buffer', default: the whole array
   * in one call) or per staging buffer ('staging', default 16 MiB). Rounded down to 256 bytes.
   */
  uploadChunkBytes?: number;
  /**
   * Idle staging bytes ('staging') kept mapped for the next upload (default 1 GiB of host memory);
   * beyond it the least recently used are destroyed. An upload reuses staging memory only while
   * its size fits here.
   */
  stagingBytes?: number;
}

/**
 * The host→device paths `GpuContext.upload()` can take (docs/gpu-upload.md has the mechanics):
 * - 'write-buffer': `queue.writeBuffer` (optionally in chunks). Dawn memcpys straight into the
 *   destination when its memory is host-visible and the GPU has not written it (lavapipe);
 *   otherwise into its own staging memory: a reused 4 MiB ring for small writes, a freshly
 *   allocated and zeroed mapped buffer for every write over 4 MiB, then a GPU copy.
 * - 'mapped': a fresh storage buffer created `mappedAtCreation` and filled in place (it never comes
 *   from the pool; it joins it on release). Dawn backs a non-mappable buffer with a fresh staging
 *   buffer of the same size, so this is one fresh allocation more than 'write-buffer'.
 * - 'staging': our own MAP_WRITE|COPY_SRC staging buffers, kept mapped between uses (up to
 *   `stagingBytes`): fill, unmap, copy into a pooled storage buffer, map again once the copy is
 *   done. Writes below `stagingMinBytes` take 'write-buffer' (Dawn's small-write ring already
 *   reuses its memory).
 */
export type UploadMethod = 'write-buffer' | 'mapped' | 'staging';
export const uploadMethods: readonly UploadMethod[] = ['write-buffer', 'mapped', 'staging'];

/**
 * The upload path a context takes unless told: 'staging' on a GPU, 'write-buffer' on a software
 * adapter. The choice follows Dawn's mechanics (docs/gpu-upload.md), not timings on lavapipe:
 * - On a discrete GPU a storage buffer lives in device memory the CPU cannot map, so writeBuffer
 *   goes through Dawn's staging: every write over 4 MiB allocates, zeroes and frees a fresh mapped
 *   buffer (pinned host memory) and copies from it; mappedAtCreation does the same plus a fresh
 *   device allocation. Our staging buffers stay mapped between uses: one memcpy into memory that is
 *   already pinned, and per-chunk submits let the DMA of one piece overlap the memcpy of the next.
 * - On lavapipe (and any adapter whose storage memory is host-visible) Dawn's writeBuffer memcpys
 *   straight into the destination when the GPU has not written it: one copy, nothing to beat.
 *   Integrated GPUs share that property but cannot be told apart here; pass `upload: 'write-buffer'`.
 */
export function defaultUpload(adapter: Pick<AdapterDescription, 'software'>): UploadMethod {
  return adapter.software ? 'write-buffer' : 'staging';
}
const defaultStagingChunk = 16 * 2 ** 20;
/** Below this many bytes 'staging' uses writeBuffer: such writes fit Dawn's reused 4 MiB ring and need no extra submit. */
export const stagingMinBytes = 2 ** 20;

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
  /** Idle mapped staging buffers, least recently used first. */
  private readonly staging: GPUBuffer[] = [];
  private stagingIdle = 0;
  private readonly remaps = new Set<Promise<void>>();
  /** Upper bound on idle pooled bytes; beyond it released buffers are destroyed. */
  poolLimit: number;
  /** The path `upload()` takes (may be changed between uploads, e.g. to compare them). */
  uploadMethod: UploadMethod;
  /** Bytes per piece of an upload; 0 takes the method's default (see GpuContextOptions). */
  uploadChunkBytes: number;
  /** Upper bound on idle staging bytes kept mapped. */
  stagingLimit: number;
  /** Bytes uploaded by each path so far ('staging' counts only what went through staging buffers). */
  readonly uploaded: Record<UploadMethod, number> = { 'write-buffer': 0, mapped: 0, staging: 0 };

  private constructor(gpu: GPU, device: GPUDevice, adapter: AdapterDescription, maxBinding: number, options: GpuContextOptions) {
    this.gpu = gpu;
    this.poolLimit = options.poolBytes ?? 2 ** 30;
    this.uploadMethod = options.upload ?? defaultUpload(adapter);
    this.uploadChunkBytes = options.uploadChunkBytes ?? 0;
    this.stagingLimit = options.stagingBytes ?? 2 ** 30;
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
    if (options.upload !== undefined && !uploadMethods.includes(options.upload)) {
      throw new RewardkitError('E_VALUE', `Expected upload to be one of ${uploadMethods.join(', ')} but received ${String(options.upload)}`, 'upload');
    }
    if (options.stagingBytes !== undefined && !(options.stagingBytes >= 0)) {
      throw new RewardkitError('E_VALUE', `Expected stagingBytes >= 0 but received ${options.stagingBytes}`, 'stagingBytes');
    }
    const chunk = options.uploadChunkBytes;
    if (chunk !== undefined && !(chunk >= 256 && Number.isFinite(chunk))) {
      throw new RewardkitError('E_VALUE', `Expected uploadChunkBytes >= 256 but received ${chunk}`, 'uploadChunkBytes');
    }
    return new GpuContext(gpu, device, description, maxBinding, options);
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

  /**
   * A pooled storage buffer holding `data` (u8 data is zero-padded to whole words), by the path
   * `uploadMethod` names. The data is copied before this returns: the caller may reuse `data` at once.
   */
  upload(data: ArrayBufferView, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | extraUsage;
    const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const chunk = Math.floor(this.uploadChunkBytes / 256) * 256;
    if (this.uploadMethod === 'mapped') return this.uploadMapped(src, usage);
    if (this.uploadMethod === 'staging' && src.byteLength >= stagingMinBytes) return this.uploadStaged(src, usage, chunk || defaultStagingChunk);
    return this.uploadWritten(src, usage, chunk);
  }

  /** `queue.writeBuffer`, in pieces of `chunk` bytes (0: one call). */
  private uploadWritten(src: Uint8Array, usage: GPUBufferUsageFlags, chunk: number): GPUBuffer {
    const bytes = src.byteLength;
    const buffer = this.acquire(Math.max(bytes, 4), usage);
    this.uploaded['write-buffer'] += bytes;
    const whole = bytes & ~3;
    const step = chunk || whole;
    for (let s = 0; s < whole; s += step) this.device.queue.writeBuffer(buffer, s, src.buffer, src.byteOffset + s, Math.min(step, whole - s));
    if (whole < bytes) {
      const tail = new Uint8Array(4);
      tail.set(src.subarray(whole));
      this.device.queue.writeBuffer(buffer, whole, tail);
    }
    return buffer;
  }

  /** A new buffer created mapped and filled in place (Dawn zeroes it, so padding is already 0). */
  private uploadMapped(src: Uint8Array, usage: GPUBufferUsageFlags): GPUBuffer {
    const buffer = this.device.createBuffer({ size: sizeClass(Math.max(src.byteLength, 4)), usage, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(src);
    buffer.unmap();
    this.uploaded.mapped += src.byteLength;
    return buffer;
  }

  /**
   * Fill mapped staging buffers of `chunk` bytes, unmap, copy each into the destination (one submit
   * per piece, so the GPU copies a piece while the next one is filled), then map them again in the
   * background for reuse. Synchronous: while a staging buffer is not back yet, a new one created
   * mapped takes its place (an upload larger than `stagingBytes` always allocates some).
   */
  private uploadStaged(src: Uint8Array, usage: GPUBufferUsageFlags, chunk: number): GPUBuffer {
    const bytes = src.byteLength;
    const buffer = this.acquire(bytes, usage);
    const padded = Math.ceil(bytes / 4) * 4;
    this.uploaded.staging += bytes;
    for (let s = 0; s < padded; s += chunk) {
      const n = Math.min(chunk, padded - s);
      const staging = this.stagingBuffer(n);
      const view = new Uint8Array(staging.getMappedRange(0, n));
      const filled = Math.min(n, bytes - s);
      view.set(src.subarray(s, s + filled));
      view.fill(0, filled); // a reused staging buffer holds old data: zero the u8 padding
      staging.unmap();
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(staging, 0, buffer, s, n);
      this.device.queue.submit([encoder.finish()]);
      this.remap(staging);
    }
    return buffer;
  }

  /** A mapped MAP_WRITE|COPY_SRC buffer of at least `bytes`: an idle one of its size class, else a new one created mapped. */
  private stagingBuffer(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    for (let i = this.staging.length - 1; i >= 0; i--) {
      const b = this.staging[i]!;
      if (b.size !== size) continue;
      this.staging.splice(i, 1);
      this.stagingIdle -= size;
      return b;
    }
    return this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
  }

  /** Map a staging buffer again once its copy is done and keep it, evicting the least recently used past `stagingLimit`. */
  private remap(staging: GPUBuffer): void {
    const p: Promise<void> = staging.mapAsync(GPUMapMode.WRITE).then(() => {
      if (this.lostReason || staging.size > this.stagingLimit) { staging.destroy(); return; }
      this.staging.push(staging);
      this.stagingIdle += staging.size;
      while (this.stagingIdle > this.stagingLimit) {
        const old = this.staging.shift()!;
        this.stagingIdle -= old.size;
        old.destroy();
      }
    }, () => staging.destroy()).finally(() => this.remaps.delete(p));
    this.remaps.add(p);
  }

  /** Resolves once every staging buffer in flight is mapped again and ready for reuse. */
  async settle(): Promise<void> {
    while (this.remaps.size) await Promise.all(this.remaps);
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
      // Popped together (innermost first), not one await after another: each await is a round trip
      // through Dawn's event loop, and three in a row cost ~3× one (0.046 vs 0.017 ms on lavapipe).
      const [internal, validation, oom] = await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
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
      // The map is requested right after the copy is submitted, without waiting for the submission's
      // error scopes first: one event-loop round trip per read instead of two (small calls are
      // latency-bound). A submission error still wins, and a map that succeeded anyway is undone.
      const submitted = this.submit((enc) => parts.forEach(([b, dest], i) => {
        if (dest.byteLength > 0) enc.copyBufferToBuffer(b, 0, staging, offsets[i]!, Math.ceil(dest.byteLength / 4) * 4);
      }));
      const mapping = staging.mapAsync(GPUMapMode.READ, 0, staging.size).then(() => undefined, (e: unknown) => e as Error);
      try {
        await submitted;
      } catch (e) {
        if ((await mapping) === undefined) staging.unmap();
        throw e;
      }
      const mapError = await mapping;
      if (mapError) {
        this.check();
        throw new RewardkitError('E_GPU', `mapping the results failed: ${mapError.message}`, undefined, { cause: mapError });
      }
      const mapped = staging.getMappedRange(0, staging.size);
      parts.forEach(([, dest], i) => new Uint8Array(dest.buffer, dest.byteOffset, dest.byteLength).set(new Uint8Array(mapped, offsets[i]!, dest.byteLength)));
      staging.unmap();
    } finally {
      this.release(staging);
    }
  }

  /** Destroy every idle pooled buffer and idle staging buffer now (buffers in use are untouched). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
    for (const b of this.staging.splice(0)) b.destroy();
    this.stagingIdle = 0;
  }

  /** Destroy the device and drop pooled buffers and pipelines. The context is unusable afterwards. */
  dispose(): void {
    if (this.lostReason === undefined) this.lostReason = 'the GPU context was disposed';
    this.trim();
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
