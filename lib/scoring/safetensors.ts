/**
 * A small, strict safetensors reader (the format trained reward heads are saved in) and `loadHead`,
 * which turns a head's tensors into a RewardHead.
 *
 * Format: an 8-byte little-endian header length N, N bytes of JSON
 * `{ "__metadata__"?: {str: str}, name: { dtype, shape, data_offsets: [begin, end] }, … }`, then the
 * byte buffer the offsets index (relative to its start). Checked as the format's own reader checks:
 * N within the file and ≤ 100 MB; the JSON an object; every dtype known; shapes of non-negative
 * integers; end − begin = Π shape · dtype size; the tensors tile the buffer exactly, in order,
 * with no hole, overlap or trailing bytes. Every problem is a RewardkitError (E_VALUE for a corrupt
 * file, E_DTYPE for a dtype that cannot become f32, E_SHAPE for tensors that do not form a head).
 * A path is read with positioned reads: the header, then only the tensors asked for.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { describe, fail, RewardkitError } from '../errors.js';
import { widen16 } from './heads.dtype.js';
import type { HeadActivation, RewardHead } from './heads.js';

/** Bytes per element of every safetensors dtype. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
/** The format's own limit on the header. */
const MAX_HEADER = 100_000_000;

export interface TensorInfo {
  dtype: string;
  shape: number[];
  /** Byte range in the data buffer (relative to its start). */
  begin: number;
  end: number;
}

export interface Safetensors {
  metadata: Record<string, string>;
  /** In file order. */
  tensors: Map<string, TensorInfo>;
  /** A tensor's values as f32 (F32, F16, BF16 exactly; F64 rounded). */
  float32(name: string): Float32Array;
  /** Release the file (a no-op for in-memory sources). */
  close(): void;
}

const corrupt = (what: string, received: string): never => fail('E_VALUE', 'safetensors', what, received);

/** Parse and check a header (the JSON text) against a data buffer of `dataBytes` bytes. */
function parseHeader(text: string, dataBytes: number): { metadata: Record<string, string>; tensors: Map<string, TensorInfo> } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return corrupt('a JSON header', `invalid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return corrupt('a JSON object header', describe(json));
  const metadata: Record<string, string> = {};
  const list: Array<[string, TensorInfo]> = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) corrupt('__metadata__ as an object of strings', describe(value));
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') corrupt(`a string for __metadata__.${k}`, describe(v));
        metadata[k] = v as string;
      }
      continue;
    }
    if (value === null || typeof value !== 'object') corrupt(`an entry { dtype, shape, data_offsets } for tensor '${name}'`, describe(value));
    const e = value as Record<string, unknown>;
    const dtype = e['dtype'];
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) corrupt(`a known dtype for tensor '${name}'`, describe(dtype));
    const shape = e['shape'];
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
      corrupt(`a shape of non-negative integers for tensor '${name}'`, describe(shape));
    }
    const offsets = e['data_offsets'];
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0)) {
      corrupt(`data_offsets [begin, end] for tensor '${name}'`, describe(offsets));
    }
    const [begin, end] = offsets as [number, number];
    const elements = (shape as number[]).reduce((a, d) => a * d, 1);
    const bytes = elements * DTYPE_BYTES[dtype as string]!;
    if (!(end >= begin) || end - begin !== bytes) {
      corrupt(`${bytes} bytes for tensor '${name}' (${dtype as string} ${JSON.stringify(shape)})`, `data_offsets [${begin}, ${end}]`);
    }
    if (end > dataBytes) corrupt(`data_offsets within the ${dataBytes}-byte data buffer for tensor '${name}'`, `[${begin}, ${end}]`);
    list.push([name, { dtype: dtype as string, shape: shape as number[], begin, end }]);
  }
  // The tensors must tile the buffer: sorted by begin, each starts where the last ended.
  const sorted = [...list].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let at = 0;
  for (const [name, t] of sorted) {
    if (t.begin !== at) corrupt(`tensor '${name}' to start at byte ${at} of the data buffer (no holes or overlaps)`, `data_offsets [${t.begin}, ${t.end}]`);
    at = t.end;
  }
  if (at !== dataBytes) corrupt(`a data buffer of ${at} bytes (the tensors' extent)`, `${dataBytes} bytes`);
  return { metadata, tensors: new Map(list) };
}

function toFloat32(name: string, t: TensorInfo, bytes: Uint8Array): Float32Array {
  const n = (t.end - t.begin) / DTYPE_BYTES[t.dtype]!;
  // Copy into an aligned buffer first: the data buffer is only byte-aligned.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  const le = new DataView(aligned.buffer);
  switch (t.dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = le.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = le.getFloat64(i * 8, true);
      return out;
    }
    case 'F16':
    case 'BF16': {
      const bits = new Uint16Array(n);
      for (let i = 0; i < n; i++) bits[i] = le.getUint16(i * 2, true);
      return widen16(bits, t.dtype === 'F16' ? 'f16' : 'bf16');
    }
    default:
      return fail('E_DTYPE', `tensor '${name}'`, 'F32, F16, BF16 or F64 values', t.dtype);
  }
}

/** Open a safetensors file (a path) or buffer; checks the whole header before returning. */
export function readSafetensors(source: string | Uint8Array): Safetensors {
  if (typeof source === 'string') {
    let fd: number;
    try {
      fd = openSync(source, 'r');
    } catch (err) {
      throw new RewardkitError('E_VALUE', `Expected a readable safetensors file for source but received ${JSON.stringify(source)} (${(err as Error).message})`, 'source', { cause: err });
    }
    try {
      const size = fstatSync(fd).size;
      const read = (position: number, length: number): Uint8Array => {
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, buf, done, length - done, position + done);
          if (n === 0) corrupt(`${length} bytes at offset ${position}`, `end of file after ${done}`);
          done += n;
        }
        return buf;
      };
      const { metadata, tensors, start } = open(size, read);
      let closed = false;
      return {
        metadata, tensors,
        float32(name) {
          if (closed) fail('E_VALUE', 'safetensors', 'an open file', 'a closed one');
          const t = info(tensors, name);
          return toFloat32(name, t, read(start + t.begin, t.end - t.begin));
        },
        close() { if (!closed) { closed = true; closeSync(fd); } },
      };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }
  if (!(source instanceof Uint8Array)) return fail('E_DTYPE', 'source', 'a path or a Uint8Array/Buffer of a safetensors file', describe(source));
  const { metadata, tensors, start } = open(source.length, (position, length) => source.subarray(position, position + length));
  return {
    metadata, tensors,
    float32(name) { const t = info(tensors, name); return toFloat32(name, t, source.subarray(start + t.begin, start + t.end)); },
    close() {},
  };
}

function open(size: number, read: (position: number, length: number) => Uint8Array) {
  if (size < 8) corrupt('at least 8 bytes (the header length)', `${size} bytes`);
  const n = new DataView(read(0, 8).slice().buffer).getBigUint64(0, true);
  if (n < 2n || n > BigInt(Math.min(MAX_HEADER, size - 8))) corrupt(`a header length in [2, ${Math.min(MAX_HEADER, size - 8)}]`, `${n}`);
  const len = Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(read(8, len));
  } catch {
    return corrupt('a UTF-8 header', 'invalid UTF-8');
  }
  const start = 8 + len;
  return { ...parseHeader(text, size - start), start };
}

function info(tensors: Map<string, TensorInfo>, name: string): TensorInfo {
  const t = tensors.get(name);
  if (!t) fail('E_VALUE', 'name', `one of the file's tensors (${[...tensors.keys()].slice(0, 8).join(', ')})`, JSON.stringify(name));
  return t;
}

export interface LoadHeadOptions {
  /**
   * The head's tensor-name prefix, e.g. 'score.' (TRL/transformers), 'value_head.' (OpenRLHF),
   * 'v_head.summary.' (TRL value head). Default: the first of those present, else the whole file.
   */
  prefix?: string;
  /** For MLP heads (safetensors stores no activation). Default: `__metadata__.activation`, else 'silu'. */
  activation?: HeadActivation;
}

const KNOWN_PREFIXES = ['score.', 'value_head.', 'v_head.summary.', 'reward_head.', 'head.', 'classifier.'];

/**
 * Read a reward head from a safetensors file or buffer: one Linear(H, 1) layer (`weight` [1, H] or
 * [H], optional `bias` [1]) → a linear head; two Linear layers (`W1` [width, H], `W2` [1, width],
 * optional biases; ordered by the number in their names, e.g. `0.` and `2.` of nn.Sequential) → an
 * MLP head. f16/bf16 weights are widened exactly to f32.
 */
export function loadHead(source: string | Uint8Array, options: LoadHeadOptions = {}): RewardHead {
  const file = readSafetensors(source);
  try {
    const names = [...file.tensors.keys()];
    let prefix = options.prefix;
    if (prefix !== undefined && typeof prefix !== 'string') fail('E_VALUE', 'prefix', 'a string', describe(prefix));
    prefix ??= KNOWN_PREFIXES.find((p) => names.some((n) => n.startsWith(p) && n.endsWith('weight'))) ?? '';
    const weights = names.filter((n) => n.startsWith(prefix!) && (n.endsWith('.weight') || n === `${prefix}weight`));
    if (weights.length === 0) fail('E_SHAPE', 'safetensors', `a '${prefix}…weight' tensor`, `tensors ${names.slice(0, 8).join(', ') || '(none)'}`);
    if (weights.length > 2) fail('E_SHAPE', 'safetensors', `one (linear) or two (MLP) '${prefix}…weight' tensors`, weights.join(', '));
    const stem = (w: string) => w.slice(0, -'weight'.length);
    const bias = (w: string): Float32Array | null => (file.tensors.has(`${stem(w)}bias`) ? file.float32(`${stem(w)}bias`) : null);
    const shapeOf = (w: string) => file.tensors.get(w)!.shape;
    const scalarBias = (w: string): number => {
      const b = bias(w);
      if (b && b.length !== 1) fail('E_SHAPE', `${stem(w)}bias`, '1 value', `${b.length}`);
      return b ? b[0]! : 0;
    };
    if (weights.length === 1) {
      const w = weights[0]!, s = shapeOf(w);
      if (!(s.length === 1 || (s.length === 2 && s[0] === 1))) fail('E_SHAPE', w, '[1, H] or [H] (one output)', JSON.stringify(s));
      return { kind: 'linear', weight: file.float32(w), bias: scalarBias(w) };
    }
    // Two layers: order by the first number in the name (nn.Sequential's 0., 2.), else by shape.
    const num = (w: string) => Number(/(\d+)\.weight$/.exec(w)?.[1] ?? NaN);
    let [first, second] = weights as [string, string];
    if (!Number.isNaN(num(first)) && !Number.isNaN(num(second))) { if (num(first) > num(second)) [first, second] = [second, first]; }
    else if (shapeOf(first)[0] === 1 && shapeOf(second)[0] !== 1) [first, second] = [second, first];
    const s1 = shapeOf(first), s2 = shapeOf(second);
    if (s1.length !== 2) fail('E_SHAPE', first, '[width, H]', JSON.stringify(s1));
    const width = s1[0]!;
    if (!((s2.length === 2 && s2[0] === 1 && s2[1] === width) || (s2.length === 1 && s2[0] === width))) {
      fail('E_SHAPE', second, `[1, ${width}] (one output from the first layer's ${width})`, JSON.stringify(s2));
    }
    const b1 = bias(first);
    if (b1 && b1.length !== width) fail('E_SHAPE', `${stem(first)}bias`, `${width} values`, `${b1.length}`);
    const meta = file.metadata['activation'];
    const activation = options.activation ?? (meta === undefined ? 'silu' : (meta as HeadActivation));
    if (!['silu', 'gelu', 'relu', 'tanh'].includes(activation)) fail('E_VALUE', options.activation ? 'activation' : '__metadata__.activation', "'silu', 'gelu', 'relu' or 'tanh'", describe(activation));
    const head: RewardHead = { kind: 'mlp', w1: file.float32(first), w2: file.float32(second), b2: scalarBias(second), activation };
    if (b1) head.b1 = b1;
    return head;
  } finally {
    file.close();
  }
}
